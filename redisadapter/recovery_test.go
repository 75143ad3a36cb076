package redisadapter_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// recoveryNodes starts n servers with the streams adapter and connection
// state recovery (sessions kept for window).
func recoveryNodes(t *testing.T, srv *redistest.Server, n int, window time.Duration, extra ...redisadapter.Option) ([]*siotest.Node, []*redisadapter.Builder) {
	var nodes []*siotest.Node
	var builders []*redisadapter.Builder
	for i := 0; i < n; i++ {
		rdb := redis.NewClient(srv.Options())
		b := redisadapter.NewStreams(rdb, append([]redisadapter.Option{redisadapter.WithRequestsTimeout(2 * time.Second)}, extra...)...)
		nodes = append(nodes, siotest.StartNodeWith(t, fmt.Sprint("r", i), rdb, b, func(o *socket.ServerOptions) {
			csr := &socket.ConnectionStateRecovery{}
			csr.SetMaxDisconnectionDuration(window.Milliseconds())
			o.SetConnectionStateRecovery(csr)
		}))
		builders = append(builders, b)
	}
	return nodes, builders
}

// ticks checks that frames carry tick indices from..to-1 in order, each
// with a stream offset as last argument, and returns the last offset.
func ticks(t *testing.T, frames []siotest.Frame, from int) {
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

// TestRecoveryAcrossServers: a client drops from one server and comes back
// on another; it keeps its id and gets exactly the packets broadcast to its
// rooms meanwhile, in order, then the live ones; past the window it
// connects fresh.
func TestRecoveryAcrossServers(t *testing.T) {
	srv := redistest.Start(t)
	nodes, builders := recoveryNodes(t, srv, 3, 3*time.Second)
	a, b, c := nodes[0], nodes[1], nodes[2]

	rc := siotest.DialRaw(t, a.URL, "/", nil, true)
	if rc.PID == "" {
		t.Fatal("no pid in the CONNECT answer: recovery is off")
	}
	rc.Call("join", "r")
	for i := 0; i < 3; i++ {
		c.IO.To("r").Emit("tick", i)
	}
	ticks(t, rc.ExpectExactly("tick", 3), 0)
	sid, pid, offset := rc.ID, rc.PID, rc.LastOffset()

	rc.Drop()
	siotest.Eventually(t, "the session persisted", func() bool { return builders[0].Stats().SessionsPersisted == 1 })
	siotest.SessionStored(t, srv.Client(t), pid)

	// Many packets while it is away, from every server, to its room, to
	// another room and excluding its room.
	const missed = 300
	for i := 3; i < 3+missed; i++ {
		nodes[i%3].IO.To("r").Emit("tick", i)
		if i%10 == 0 {
			nodes[i%3].IO.To("other").Emit("tick", -1)
			nodes[i%3].IO.Except("r").Emit("tick", -2)
		}
	}

	back := siotest.DialRawWith(t, b.URL, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": pid, "offset": offset}}, false)
	if back.ID != sid {
		t.Fatalf("came back as %s, want the recovered %s", back.ID, sid)
	}
	ticks(t, back.ExpectExactly("tick", missed), 3)
	if !b.Has("/", sid) {
		t.Fatal("the recovered socket is not on the server it came back to")
	}
	// Its rooms came back: live broadcasts to r reach it, once.
	a.IO.To("r").Emit("tick", 3+missed)
	ticks(t, back.ExpectExactly("tick", missed+1), 3)
	if s := builders[1].Stats(); s.SessionsRestored != 1 {
		t.Fatalf("SessionsRestored = %d", s.SessionsRestored)
	}

	t.Run("Expired", func(t *testing.T) {
		back.Call("join", "r")
		pid, offset := back.PID, back.LastOffset()
		back.Drop()
		siotest.Eventually(t, "the session persisted", func() bool { return builders[1].Stats().SessionsPersisted == 1 })
		siotest.SessionStored(t, srv.Client(t), pid)
		c.IO.To("r").Emit("tick", -3)
		time.Sleep(3500 * time.Millisecond) // past the 3 s window
		fresh := siotest.DialRawWith(t, c.URL, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": pid, "offset": offset}}, false)
		if fresh.ID == sid {
			t.Fatal("an expired session was recovered")
		}
		fresh.ExpectNoFrames("tick")
		if s := builders[2].Stats(); s.SessionsNotRestored != 1 {
			t.Fatalf("SessionsNotRestored = %d", s.SessionsNotRestored)
		}
	})
}

// TestRecoveryOwnBroadcastsWhileReaderBehind: the server a client comes
// back to sent the packets it missed itself. Those were delivered locally
// when emitted (to nobody: the client was away) and its stream reader
// skips its own entries, so the replay must reach every one of them even
// while the reader is behind (readCount 1 keeps it behind a burst) and
// while some are still in the publish queue.
func TestRecoveryOwnBroadcastsWhileReaderBehind(t *testing.T) {
	srv := redistest.Start(t)
	nodes, builders := recoveryNodes(t, srv, 2, 5*time.Second, redisadapter.WithReadCount(1))
	a, b := nodes[0], nodes[1]

	rc := siotest.DialRaw(t, a.URL, "/", nil, true)
	rc.Call("join", "r")
	b.IO.To("r").Emit("tick", 0)
	ticks(t, rc.ExpectExactly("tick", 1), 0)
	pid, offset := rc.PID, rc.LastOffset()
	rc.Drop()
	siotest.Eventually(t, "the session persisted", func() bool { return builders[0].Stats().SessionsPersisted == 1 })
	siotest.SessionStored(t, srv.Client(t), pid)

	const missed = 500
	for i := 1; i <= missed; i++ {
		b.IO.To("r").Emit("tick", i)
	}
	back := siotest.DialRawWith(t, b.URL, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": pid, "offset": offset}}, false)
	if back.ID != rc.ID {
		t.Fatalf("came back as %s, want the recovered %s", back.ID, rc.ID)
	}
	ticks(t, back.ExpectExactly("tick", missed), 1)
	b.IO.To("r").Emit("tick", missed+1)
	ticks(t, back.ExpectExactly("tick", missed+1), 1)
}
