package redisadapter_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/conformance"
)

// TestHandshakeCache runs the handshake-cache scenario of internal/conformance.
func TestHandshakeCache(t *testing.T) { conformance.RunHandshakeCache(t, binding) }
