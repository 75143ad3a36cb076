package redisadapter_test

import (
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/conformance"
	"github.com/sioredis/sioredis/internal/siotest"
)

// The fault scenarios of internal/conformance. The faults handled by the
// core alone (credentials, refused subscriptions, Sentinel failover) run
// with this binding only.

func TestFrozenRedisIsDetected(t *testing.T) { conformance.RunFrozenRedisIsDetected(t, binding) }
func TestRotatedPasswordDoesNotStorm(t *testing.T) {
	conformance.RunRotatedPasswordDoesNotStorm(t, binding)
}
func TestRefusedSubscription(t *testing.T) { conformance.RunRefusedSubscription(t, binding) }
func TestSentinelFailover(t *testing.T)    { conformance.RunSentinelFailover(t, binding) }

// The fault tests of this package's own (streams) use the suite's settings.
const (
	faultInterval = conformance.FaultInterval
	maxBackoff    = conformance.MaxBackoff
)

// logSink collects a node's log lines.
type logSink = conformance.LogSink

// within polls cond until it holds, failing the test after bound.
func within(t *testing.T, what string, bound time.Duration, cond func() bool) time.Duration {
	t.Helper()
	return await.Within(t, what, bound, cond)
}

// closeAndCheckLeaks closes nodes and checks that nothing of the adapter
// outlives them.
func closeAndCheckLeaks(t *testing.T, nodes ...*siotest.Node) {
	t.Helper()
	for _, n := range nodes {
		n.Close()
	}
	siotest.AssertNoGoroutines(t, "sioredis/redisadapter.")
}
