//go:build linux

package redisadapter_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/conformance"
)

// The deadline scenarios of internal/conformance (Linux: they freeze
// redis-server with SIGSTOP).

func TestDeadlinesWithPlainClient(t *testing.T) { conformance.RunDeadlinesWithPlainClient(t, binding) }
func TestCloseWhileRedisFrozen(t *testing.T)    { conformance.RunCloseWhileRedisFrozen(t, binding) }
