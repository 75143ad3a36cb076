package redisadapter_test

import (
	"os"
	"testing"

	"github.com/sioredis/sioredis/internal/redistest"
)

// The runnable examples read REDIS_ADDR, which TestMain points at a
// redis-server of its own. Started with memberChildEnv set, the test
// binary is a member server of a membership test instead (see
// membership_test.go), so that it can be killed or frozen.
func TestMain(m *testing.M) {
	if os.Getenv(memberChildEnv) != "" {
		os.Exit(runMemberChild())
	}
	os.Exit(redistest.RunWithEnv(m, "REDIS_ADDR"))
}
