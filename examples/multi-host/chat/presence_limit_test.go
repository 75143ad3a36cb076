package chat_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/examples/multi-host/internal/hosttest"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
)

// counts is how many cluster-wide counts (fetchSockets requests) a host
// published so far, from its /metrics.
func counts(t *testing.T, hostURL string) float64 {
	t.Helper()
	return sample(scrape(t, hostURL), "sioredis_messages_published_total", "kind", "fetchSockets")
}

// TestPresenceRequestsShareClusterCounts: a client asking for the presence
// in a loop does not make its host ask the cluster each time (every
// cluster-wide count publishes a request that every host handles): the
// answers share one count per PresenceInterval (1 s by default).
func TestPresenceRequestsShareClusterCounts(t *testing.T) {
	rs := redistest.Start(t)
	key := fmt.Sprintf("mh-presence-%d", time.Now().UnixNano())
	u1 := hosttest.Start(t, rs, "host-1", key, nil)
	hosttest.Start(t, rs, "host-2", key, nil)
	c := siotest.Dial(t, u1, "/", url.Values{"name": {"asker"}}, events.Welcome)
	c.Expect(events.Welcome)

	const asks = 100
	before := max(counts(t, u1), 0)
	start := time.Now()
	for range asks {
		p, ok := c.Call(events.Presence)[0].(map[string]any)
		if !ok || p["servers"] != 2.0 {
			t.Fatalf("presence %v", p)
		}
	}
	elapsed := time.Since(start)
	n := max(counts(t, u1), 0) - before
	t.Logf("%d presence requests in %v: host-1 asked the cluster %v times", asks, elapsed.Round(time.Millisecond), n)
	// One count per second at most; plus the presence broadcasts of the
	// connect (a count each).
	if limit := float64(elapsed/time.Second) + 3; n > limit {
		t.Fatalf("%d presence requests made host-1 ask the cluster %v times in %v, want at most %v",
			asks, n, elapsed.Round(time.Millisecond), limit)
	}
}
