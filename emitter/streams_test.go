package emitter_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestStreams drives two servers running redisadapter.NewStreams (three
// streams) from an emitter in the streams format: broadcasts and socket
// operations are entries of the namespace's stream, the server-side emit
// goes over pub/sub; a client that recovers its session gets an emitter
// broadcast it missed.
// Not parallel: its servers' goroutines would show in the leak checks of
// the parallel tests.
func TestStreams(t *testing.T) {
	srv := redistest.Start(t)
	start := func(name string) *siotest.Node {
		rdb := redis.NewClient(srv.Options())
		return siotest.StartNodeWith(t, name, rdb, redisadapter.NewStreams(rdb, redisadapter.WithStreamCount(3),
			redisadapter.WithRequestsTimeout(2*time.Second)), func(o *socket.ServerOptions) {
			o.SetConnectionStateRecovery(&socket.ConnectionStateRecovery{})
		})
	}
	n0, n1 := start("n0"), start("n1")
	erdb := redis.NewClient(srv.Options())
	t.Cleanup(func() { _ = erdb.Close() })
	e := emitter.New(erdb, emitter.WithStreams(true), emitter.WithStreamCount(3), emitter.WithMaxLen(500))

	r0 := siotest.DialRaw(t, n0.URL, "/", nil, true)
	r1 := siotest.DialRaw(t, n1.URL, "/", nil, true)
	a1 := siotest.DialRaw(t, n1.URL, "/admin", nil, true)
	r1.Call("join", "room")

	must(t, e.Emit("all", 1))
	must(t, e.To("room").Emit("room", []byte{1}))
	must(t, e.Of("/admin").Emit("adm"))
	r0.ExpectExactly("all", 1)
	r1.ExpectExactly("all", 1)
	r1.ExpectExactly("room", 1)
	r0.ExpectNoFrames("room")
	a1.ExpectExactly("adm", 1)
	// Each namespace went to its stream, trimmed with MAXLEN ~.
	for nsp, n := range map[string]int64{"/": 2, "/admin": 1} {
		stream := protocol.StreamFor(protocol.DefaultStreamName, 3, nsp)
		if l := srv.Client(t).XLen(ctx(t), stream).Val(); l < n {
			t.Errorf("%s: %d entries in %s, want at least %d", nsp, l, stream, n)
		}
	}
	// Offsets: the emitter's broadcasts carry their stream id like any.
	if off := r1.LastOffset(); !protocol.ValidOffset(off) {
		t.Errorf("no offset on an emitter broadcast: %q", off)
	}

	must(t, e.In("room").SocketsJoin("joined"))
	siotest.Eventually(t, "the join", func() bool { return hasRoom(n1, "/", "joined") })
	must(t, e.To("joined").Emit("after-join"))
	r1.ExpectExactly("after-join", 1)

	got := make(chan []any, 1)
	n0.IO.On("sse", func(args ...any) { got <- args })
	must(t, e.ServerSideEmit("sse", "x"))
	select {
	case a := <-got:
		if len(a) != 1 || a[0] != "x" {
			t.Fatalf("server-side emit args %v", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no server-side emit")
	}

	// A client that dropped gets the emitter's broadcast on recovery.
	pid, offset, sid := r1.PID, r1.LastOffset(), r1.ID
	r1.Drop()
	siotest.Eventually(t, "the session stored", func() bool {
		return srv.Client(t).Exists(ctx(t), "sio:session:"+pid).Val() == 1
	})
	must(t, e.To("room").Emit("missed", 7))
	back := siotest.DialRawWith(t, n0.URL, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": pid, "offset": offset}}, false)
	if back.ID != sid {
		t.Fatalf("not recovered: %s, want %s", back.ID, sid)
	}
	if f := back.ExpectExactly("missed", 1); f[0].Args[0] != float64(7) {
		t.Fatalf("missed frame %s", f[0].Raw)
	}
}
