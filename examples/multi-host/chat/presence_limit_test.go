package chat_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/examples/multi-host/internal/hosttest"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
)

// published is what a host published to Redis so far (its /healthz stats).
func published(t *testing.T, hostURL string) uint64 {
	t.Helper()
	resp, err := http.Get(hostURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Stats struct{ Published uint64 } }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Stats.Published
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
	before := published(t, u1)
	start := time.Now()
	for range asks {
		p, ok := c.Call(events.Presence)[0].(map[string]any)
		if !ok || p["servers"] != 2.0 {
			t.Fatalf("presence %v", p)
		}
	}
	elapsed := time.Since(start)
	n := published(t, u1) - before
	t.Logf("%d presence requests in %v: host-1 published %d messages", asks, elapsed.Round(time.Millisecond), n)
	// One count per second at most, each one request; plus the presence
	// broadcasts of the connect (a count and an emit each).
	if limit := uint64(elapsed/time.Second) + 6; n > limit {
		t.Fatalf("%d presence requests made host-1 publish %d messages in %v, want at most %d",
			asks, n, elapsed.Round(time.Millisecond), limit)
	}
}
