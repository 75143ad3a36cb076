package redisadapter_test

import (
	"os"
	"testing"

	"github.com/sioredis/sioredis/internal/redistest"
)

// exampleRedis is the address of a redis-server started for the runnable
// examples.
var exampleRedis string

func TestMain(m *testing.M) { os.Exit(redistest.RunWithServer(m, &exampleRedis)) }
