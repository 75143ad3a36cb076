package redisadapter_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/conformance"
)

// The fault scenario of internal/conformance where the binding takes part:
// a Redis that stops answering must show (Healthy, a Warn log, a counter) on
// a v3 server too, which recovers on its own and leaves nothing running. The
// faults handled by the core alone (credentials, refused subscriptions,
// Sentinel failover) run with the v2 binding only.

func TestFrozenRedisIsDetected(t *testing.T) { conformance.RunFrozenRedisIsDetected(t, binding) }
