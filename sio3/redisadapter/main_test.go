package redisadapter_test

import (
	"os"
	"testing"

	"github.com/sioredis/sioredis/internal/redistest"
)

// The runnable examples read REDIS_ADDR, which TestMain points at a
// redis-server of its own.
func TestMain(m *testing.M) { os.Exit(redistest.RunWithEnv(m, "REDIS_ADDR")) }
