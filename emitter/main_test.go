package emitter_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/sioredis/sioredis/internal/redistest"
)

// exampleRedis is the address of a redis-server started for the runnable
// examples.
var exampleRedis string

func TestMain(m *testing.M) {
	addr, stop, err := redistest.StartProcess()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exampleRedis = addr
	code := m.Run()
	stop()
	os.Exit(code)
}
