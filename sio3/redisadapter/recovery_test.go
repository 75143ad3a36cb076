package redisadapter_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/conformance"
	"github.com/sioredis/sioredis/internal/rawclient"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// Connection state recovery across socket.io v3.0.6 servers (streams
// adapter), with the raw-frame client: what it records is what each server
// wrote, in order.

// recoveryNodes starts n v3 servers with the streams adapter and connection
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

// persisted waits until b persisted one session and its SET reached Redis
// (PersistSession does not wait for it): one session key, the dropped
// client's, is there.
func persisted(t *testing.T, srv *redistest.Server, b *redisadapter.Builder) {
	t.Helper()
	rdb := srv.Client(t)
	siotest.Eventually(t, "the session persisted", func() bool {
		keys, err := rdb.Keys(siotest.Ctx(t), "sio:session:*").Result()
		return b.Stats().SessionsPersisted == 1 && err == nil && len(keys) == 1
	})
}

// closeAll closes the nodes and checks that no goroutine of the binding or
// the core is left.
func closeAll(t *testing.T, nodes []*siotest.Node) {
	t.Helper()
	for _, n := range nodes {
		n.Close()
	}
	siotest.AssertNoGoroutines(t, "sioredis/sio3/redisadapter.")
}

// ticks checks that frames carry tick indices from, from+1... in order,
// each with a stream offset as last argument.
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

// TestRecoveryAcrossServers: a client drops from one v3 server and comes
// back on another; it keeps its id and gets exactly the packets broadcast
// to its rooms meanwhile, from every server, in order, then the live ones;
// past the window it connects fresh.
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
	if offset == "" {
		t.Fatal("the ticks carry no offset")
	}

	rc.Drop()
	persisted(t, srv, builders[0])

	// Many packets while it is away, from every server (the one it comes
	// back to included), to its room, to another room and excluding its
	// room.
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
	if back.PID != pid {
		t.Fatalf("came back with pid %s, want %s", back.PID, pid)
	}
	ticks(t, back.ExpectExactly("tick", missed), 3)
	if !b.Has("/", sid) {
		t.Fatal("the recovered socket is not on the server it came back to")
	}
	// Its rooms came back: live broadcasts to r reach it, once, from any
	// server.
	a.IO.To("r").Emit("tick", 3+missed)
	b.IO.To("r").Emit("tick", 4+missed)
	ticks(t, back.ExpectExactly("tick", missed+2), 3)
	if s := builders[1].Stats(); s.SessionsRestored != 1 {
		t.Fatalf("SessionsRestored = %d", s.SessionsRestored)
	}

	t.Run("Expired", func(t *testing.T) {
		back.Call("join", "r")
		pid, offset := back.PID, back.LastOffset()
		back.Drop()
		persisted(t, srv, builders[1])
		c.IO.To("r").Emit("tick", -3)
		time.Sleep(3500 * time.Millisecond) // past the 3 s window
		fresh := siotest.DialRawWith(t, c.URL, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": pid, "offset": offset}}, false)
		if fresh.ID == sid {
			t.Fatal("an expired session was recovered")
		}
		if fresh.PID == "" || fresh.PID == pid {
			t.Fatalf("fresh session's pid %q, want a new one", fresh.PID)
		}
		fresh.ExpectNoFrames("tick")
		if s := builders[2].Stats(); s.SessionsNotRestored != 1 {
			t.Fatalf("SessionsNotRestored = %d", s.SessionsNotRestored)
		}
	})

	closeAll(t, nodes)
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
	persisted(t, srv, builders[0])

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

	closeAll(t, nodes)
}

// TestRecoveryLiveDuringRestore: broadcasts keep coming from two servers
// while the client comes back to one of them. The other server's arrive
// each once, in order, whether replayed or delivered live: the hand-over
// from the replay to the live delivery (the hold RestoreSession takes and
// AddAll releases) loses and repeats none. The server it comes back to
// may miss it with what it broadcasts itself between the restore and the
// connect (a documented limit, as in Node): its ticks arrive in order,
// none twice, and what is missing is one run.
func TestRecoveryLiveDuringRestore(t *testing.T) {
	srv := redistest.Start(t)
	nodes, builders := recoveryNodes(t, srv, 2, 5*time.Second)
	a, b := nodes[0], nodes[1]

	rc := siotest.DialRaw(t, a.URL, "/", nil, true)
	rc.Call("join", "r")
	a.IO.To("r").Emit("tick", 0)
	ticks(t, rc.ExpectExactly("tick", 1), 0)
	pid, offset := rc.PID, rc.LastOffset()
	rc.Drop()
	persisted(t, srv, builders[0])

	// One emitter per server, each numbering its own event: order is
	// checked per server (two emitters' calls have no order of their own).
	const total = 400
	done := make(chan struct{}, len(nodes))
	for k, n := range nodes {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 1; i <= total; i++ {
				n.IO.To("r").Emit(fmt.Sprint("tick", k), i)
				if i%50 == 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	back := siotest.DialRawWith(t, b.URL, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": pid, "offset": offset}}, false)
	<-done
	<-done
	if back.ID != rc.ID {
		t.Fatalf("came back as %s, want the recovered %s", back.ID, rc.ID)
	}
	if s := builders[1].Stats(); s.SessionsRestored != 1 {
		t.Fatalf("SessionsRestored = %d", s.SessionsRestored)
	}

	// Server a's: all of them, in order, once.
	offsets := map[string]bool{}
	for j, f := range back.ExpectExactly("tick0", total) {
		if i := int(f.Args[0].(float64)); i != j+1 {
			t.Fatalf("a's tick #%d is %d, want %d", j, i, j+1)
		}
		off, _ := f.Args[1].(string)
		if off == "" || offsets[off] {
			t.Fatalf("a's tick #%d: offset %q missing or repeated", j, off)
		}
		offsets[off] = true
	}

	// Server b's: in order, none twice, the missing ones one run.
	siotest.Eventually(t, "b's last tick", func() bool {
		f := back.Frames("tick1")
		return len(f) > 0 && int(f[len(f)-1].Args[0].(float64)) == total
	})
	time.Sleep(siotest.Quiet)
	got := back.Frames("tick1")
	prev, gaps := 0, 0
	for _, f := range got {
		i := int(f.Args[0].(float64))
		if i <= prev {
			t.Fatalf("b's tick %d after %d", i, prev)
		}
		if i != prev+1 {
			gaps++
		}
		prev = i
	}
	if gaps > 1 {
		t.Fatalf("b's ticks have %d gaps, want at most one run missing (%d of %d arrived)", gaps, len(got), total)
	}
	t.Logf("b's own ticks: %d of %d reached the restored socket", len(got), total)
	closeAll(t, nodes)
}

// TestRecoveryWithV3Client: the real socket.io v3 client, whose connection
// the server cuts, reconnects by itself with its pid and last offset, and
// gets its id back (Recovered) and the ticks broadcast meanwhile from both
// servers, each once, in order, then the live ones.
func TestRecoveryWithV3Client(t *testing.T) {
	srv := redistest.Start(t)
	nodes, builders := recoveryNodes(t, srv, 2, 5*time.Second)
	a, b := nodes[0], nodes[1]

	c := siotest.DialWith(t, a.URL, "/", func(o *client.Options) {
		o.SetReconnection(true)
		o.SetReconnectionDelay(300)
		o.SetReconnectionDelayMax(300)
		o.SetRandomizationFactor(0)
	}, "tick", rawclient.ReadyEvent)
	c.Expect(rawclient.ReadyEvent)
	connects := make(chan struct{}, 4)
	_ = c.S.On("connect", func(...any) { connects <- struct{}{} })
	c.Call("join", "r")
	b.IO.To("r").Emit("tick", 0)
	if got := c.Expect("tick"); got[0].(float64) != 0 {
		t.Fatalf("first tick %v", got)
	}
	id := c.ID()

	// Cut the connection from the server side ("forced close",
	// recoverable); the client reconnects after 300 ms.
	s, ok := a.IO.Of("/", nil).Sockets().Load(socket.SocketId(id))
	if !ok {
		t.Fatal("the socket is not on a")
	}
	s.Conn().Close(false)
	persisted(t, srv, builders[0])
	const missed = 100
	for i := 1; i <= missed; i++ {
		nodes[i%2].IO.To("r").Emit("tick", i)
	}
	select {
	case <-connects:
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not reconnect")
	}
	if !c.S.Recovered() || c.ID() != id {
		t.Fatalf("reconnected as %s (recovered %v), want %s recovered", c.ID(), c.S.Recovered(), id)
	}
	a.IO.To("r").Emit("tick", missed+1)
	for j, got := range c.ExpectExactly("tick", missed+1) {
		if int(got[0].(float64)) != j+1 {
			t.Fatalf("tick #%d is %v, want %d", j, got, j+1)
		}
	}
	if s := builders[0].Stats(); s.SessionsRestored != 1 {
		t.Fatalf("SessionsRestored = %d", s.SessionsRestored)
	}
	closeAll(t, nodes)
}

// TestRecoveryRefusedByMiddleware: a middleware refuses a restored socket
// (socket.io v3.0.6 runs the middlewares for it: SkipMiddlewares stays
// false with a custom adapter). The namespace's live delivery, held by the
// restore until the socket connects, resumes at once, not after the hold's
// bound (10 s).
func TestRecoveryRefusedByMiddleware(t *testing.T) {
	srv := redistest.Start(t)
	nodes, builders := recoveryNodes(t, srv, 2, 5*time.Second)
	a, b := nodes[0], nodes[1]
	_ = b.IO.Use(func(s *socket.Socket, next func(*socket.ExtendedError)) {
		if s.Recovered() {
			next(socket.NewExtendedError("no recovery here", nil))
			return
		}
		next(nil)
	})
	other := siotest.DialRaw(t, b.URL, "/", nil, true)

	rc := siotest.DialRaw(t, a.URL, "/", nil, true)
	rc.Call("join", "r")
	a.IO.To("r").Emit("tick", 0)
	ticks(t, rc.ExpectExactly("tick", 1), 0)
	rc.Drop()
	persisted(t, srv, builders[0])

	refused, err := rawclient.DialOnce(t, b.URL, "/", nil, rawclient.Options{Auth: map[string]any{"pid": rc.PID, "offset": rc.LastOffset()}, Timeout: 20 * time.Second}, false)
	if err == nil {
		refused.Close()
		t.Fatal("the middleware did not refuse the restored socket")
	}
	if !strings.Contains(err.Error(), "connect error") {
		t.Fatalf("the dial failed before the middleware: %v", err)
	}
	if s := builders[1].Stats(); s.SessionsRestored != 1 {
		t.Fatalf("SessionsRestored = %d (%v)", s.SessionsRestored, err)
	}
	start := time.Now()
	a.IO.Emit("live", 1)
	for len(other.Frames("live")) == 0 {
		if time.Since(start) > 3*time.Second {
			t.Fatal("live delivery on b still held 3 s after the refusal")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("live broadcast after the refusal reached b's client in %v", time.Since(start))
	closeAll(t, nodes)
}

// TestRecoveryOffWithoutStreams: the pub/sub adapters cannot replay; a
// client coming back with its pid connects fresh.
func TestRecoveryOffWithoutStreams(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(srv.Options())
	n := siotest.StartNodeWith(t, "classic", rdb, redisadapter.New(rdb), func(o *socket.ServerOptions) {
		o.SetConnectionStateRecovery(&socket.ConnectionStateRecovery{})
	})
	rc := siotest.DialRaw(t, n.URL, "/", nil, true)
	n.IO.Emit("tick", 0)
	rc.ExpectExactly("tick", 1)
	rc.Drop()
	back := siotest.DialRawWith(t, n.URL, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": rc.PID, "offset": "0-0"}}, false)
	if back.ID == rc.ID {
		t.Fatal("the classic adapter restored a session")
	}
	closeAll(t, []*siotest.Node{n})
}

// TestConformanceStreams runs the conformance suite on three v3 servers
// with the streams adapter.
func TestConformanceStreams(t *testing.T) {
	conformance.RunConformance(t, binding, conformance.StreamsMode(t))
}
