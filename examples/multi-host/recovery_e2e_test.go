package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestRecoveryThroughNginx: connection state recovery across hosts with
// the streams adapter, as deployed: three hosts behind real nginx (the
// repository's nginx.conf, which hashes the sioredis_lb cookie). A client
// drops from one host while many packets go to its room, comes back
// through nginx to another host, and gets its id back and exactly the
// packets it missed, in order, once; then live ones. Past the window it
// connects fresh.
func TestRecoveryThroughNginx(t *testing.T) {
	bin := requireTool(t, "nginx", "nginx")
	rs := redistest.Start(t)
	const window = 10 * time.Second
	var nodes []*siotest.Node
	var builders []*redisadapter.Builder
	var backends []string
	for i := 0; i < 3; i++ {
		rdb := redis.NewClient(rs.Options())
		b := redisadapter.NewStreams(rdb)
		n := siotest.StartNodeWith(t, fmt.Sprint("host-", i), rdb, b, func(o *socket.ServerOptions) {
			csr := &socket.ConnectionStateRecovery{}
			csr.SetMaxDisconnectionDuration(window.Milliseconds())
			o.SetConnectionStateRecovery(csr)
		})
		nodes, builders, backends = append(nodes, n), append(builders, b), append(backends, n.URL)
	}
	lb := startNginx(t, bin, backends)
	hostOf := func(sid string) int {
		for i, n := range nodes {
			if n.Has("/", sid) {
				return i
			}
		}
		return -1
	}
	cookie := func(v string) http.Header { return http.Header{"Cookie": {"sioredis_lb=" + v}} }
	// Two cookies nginx sends to two different hosts.
	landing := map[int]string{}
	for k := 0; k < 50 && len(landing) < 2; k++ {
		v := fmt.Sprint("c", k)
		probe := siotest.DialRawWith(t, lb, "/", nil, siotest.RawOptions{Header: cookie(v)}, true)
		if h := hostOf(probe.ID); h >= 0 && landing[h] == "" {
			landing[h] = v
		}
		probe.Close()
	}
	if len(landing) < 2 {
		t.Fatalf("nginx sent every cookie to one host: %v", landing)
	}
	var from, to int
	first := true
	for h := range landing {
		if first {
			from, first = h, false
		} else {
			to = h
		}
	}
	sender := 3 - from - to
	t.Logf("client on host-%d, back on host-%d, sender host-%d", from, to, sender)

	rc := siotest.DialRawWith(t, lb, "/", nil, siotest.RawOptions{Header: cookie(landing[from])}, true)
	if hostOf(rc.ID) != from {
		t.Fatalf("client landed on host-%d, want host-%d", hostOf(rc.ID), from)
	}
	rc.Call("join", "r")
	for i := 0; i < 3; i++ {
		nodes[sender].IO.To("r").Emit("tick", i)
	}
	checkTicks(t, rc.ExpectExactly("tick", 3), 0)
	sid, pid, offset := rc.ID, rc.PID, rc.LastOffset()
	persisted := builders[from].Stats().SessionsPersisted // the probes' closes may count
	rc.Drop()
	siotest.Eventually(t, "the session persisted", func() bool { return builders[from].Stats().SessionsPersisted > persisted })
	siotest.SessionStored(t, rs.Client(t), pid)

	const missed = 500
	start := time.Now()
	for i := 3; i < 3+missed; i++ {
		nodes[i%3].IO.To("r").Emit("tick", i)
		if i%10 == 0 {
			nodes[i%3].IO.To("elsewhere").Emit("tick", -1)
		}
	}

	t.Logf("%d packets sent in %v", missed, time.Since(start))
	back := siotest.DialRawWith(t, lb, "/", nil, siotest.RawOptions{
		Header: cookie(landing[to]), Auth: map[string]any{"pid": pid, "offset": offset},
	}, false)
	if back.ID != sid {
		t.Fatalf("came back as %s, want the recovered %s", back.ID, sid)
	}
	if h := hostOf(sid); h != to {
		t.Fatalf("recovered on host-%d, want host-%d", h, to)
	}
	checkTicks(t, back.ExpectExactly("tick", missed), 3)
	nodes[from].IO.To("r").Emit("tick", 3+missed)
	checkTicks(t, back.ExpectExactly("tick", missed+1), 3)

	// Expiry: away longer than the window, it connects fresh.
	pid, offset = back.PID, back.LastOffset()
	persisted = builders[to].Stats().SessionsPersisted
	notRestored := builders[from].Stats().SessionsNotRestored
	back.Drop()
	siotest.Eventually(t, "the session persisted", func() bool { return builders[to].Stats().SessionsPersisted > persisted })
	siotest.SessionStored(t, rs.Client(t), pid)
	nodes[sender].IO.To("r").Emit("tick", -3)
	time.Sleep(window + time.Second)
	fresh := siotest.DialRawWith(t, lb, "/", nil, siotest.RawOptions{
		Header: cookie(landing[from]), Auth: map[string]any{"pid": pid, "offset": offset},
	}, false)
	if fresh.ID == sid {
		t.Fatal("a session past its window was recovered")
	}
	fresh.ExpectNoFrames("tick")
	if n := builders[from].Stats().SessionsNotRestored; n != notRestored+1 {
		t.Fatalf("SessionsNotRestored = %d, want %d", n, notRestored+1)
	}
}

// checkTicks checks that frames are ticks from, from+1, ... in order, each
// with its stream offset as last argument.
func checkTicks(t *testing.T, frames []siotest.Frame, from int) {
	t.Helper()
	for k, f := range frames {
		if len(f.Args) != 2 {
			t.Fatalf("tick #%d: args %v, want [index, offset]", k, f.Args)
		}
		if i := int(f.Args[0].(float64)); i != from+k {
			t.Fatalf("tick #%d is %d, want %d (%s)", k, i, from+k, f.Raw)
		}
		if _, ok := f.Args[1].(string); !ok {
			t.Fatalf("tick #%d has no offset: %v", k, f.Args)
		}
	}
}
