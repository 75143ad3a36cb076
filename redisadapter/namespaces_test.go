package redisadapter_test

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"sync"
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

// dynServer is a socket.io server with dynamic namespaces (/dyn-<n>) that
// socket.io removes once their last socket left
// (CleanupEmptyChildNamespaces).
type dynServer struct {
	name    string
	io      *socket.Server
	builder *redisadapter.Builder
	url     string
	close   func()
}

func startDynServer(t *testing.T, name string, srv *redistest.Server, opts ...redisadapter.Option) *dynServer {
	t.Helper()
	rdb := redis.NewClient(srv.Options())
	b := redisadapter.New(rdb, append([]redisadapter.Option{redisadapter.WithRequestsTimeout(2 * time.Second)}, opts...)...)
	so := socket.DefaultServerOptions()
	so.SetAdapter(b)
	so.SetCleanupEmptyChildNamespaces(true)
	io := socket.NewServer(nil, so)
	io.Of(regexp.MustCompile(`^/dyn-\d+$`), func(args ...any) {
		args[0].(*socket.Socket).Emit("ready")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	d := &dynServer{name: name, io: io, builder: b, url: "http://" + ln.Addr().String()}
	var once sync.Once
	d.close = func() {
		once.Do(func() {
			done := make(chan struct{})
			go io.Close(func(error) { close(done) })
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Errorf("%s: io.Close did not return", name)
			}
			_ = hs.Close()
			_ = rdb.Close()
		})
	}
	t.Cleanup(d.close)
	return d
}

// dial connects a client to nsp and waits for the server's "ready".
func (d *dynServer) dial(t *testing.T, nsp string, events ...string) *siotest.Client {
	t.Helper()
	c := siotest.Dial(t, d.url, nsp, nil, append(events, "ready")...)
	c.Expect("ready")
	return c
}

// requestSubscribers is the number of servers subscribed to nsp's request
// channel: the servers where nsp exists.
func requestSubscribers(t *testing.T, srv *redistest.Server, nsp string) int64 {
	t.Helper()
	ch := protocol.RequestChannel(protocol.DefaultPrefix, nsp)
	m, err := srv.Client(t).PubSubNumSub(siotest.Ctx(t), ch).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m[ch]
}

// TestDynamicNamespaceDisconnectPublishes disconnects every socket of a
// dynamic namespace from the server that holds its last local socket: the
// request must still reach the other server, although disconnecting the
// local socket removes the namespace (and closes its adapter).
func TestDynamicNamespaceDisconnectPublishes(t *testing.T) {
	srv := redistest.Start(t)
	a, b := startDynServer(t, "a", srv), startDynServer(t, "b", srv)
	ca := a.dial(t, "/dyn-1")
	cb := b.dial(t, "/dyn-1")
	siotest.Eventually(t, "both servers subscribed", func() bool { return requestSubscribers(t, srv, "/dyn-1") == 2 })

	a.io.Of("/dyn-1", nil).DisconnectSockets(false)
	siotest.Eventually(t, "local socket disconnected", func() bool { return !ca.S.Connected() })
	siotest.Eventually(t, "remote socket disconnected", func() bool { return !cb.S.Connected() })
	siotest.Eventually(t, "both namespaces removed", func() bool { return requestSubscribers(t, srv, "/dyn-1") == 0 })
	a.close()
	b.close()
	siotest.AssertNoGoroutines(t, "sioredis/redisadapter.")
}

// TestDynamicNamespaceRemoteCleanup empties a dynamic namespace with a
// remote DisconnectSockets, from another server and from the emitter. Its
// adapter is then closed on its own worker, which must not wait for itself;
// the namespace must work again once re-created, and nothing may be left
// after io.Close.
func TestDynamicNamespaceRemoteCleanup(t *testing.T) {
	srv := redistest.Start(t)
	a, b := startDynServer(t, "a", srv), startDynServer(t, "b", srv)
	em := emitter.New(srv.Client(t))
	for i, disconnect := range []func(nsp string){
		func(nsp string) { a.io.Of(nsp, nil).DisconnectSockets(false) },
		func(nsp string) {
			if err := em.Of(nsp).DisconnectSockets(false); err != nil {
				t.Fatal(err)
			}
		},
	} {
		nsp := fmt.Sprintf("/dyn-%d", 10+i)
		a.io.Of(nsp, nil) // exists on a too, without sockets
		cb := b.dial(t, nsp)
		siotest.Eventually(t, "both subscribed", func() bool { return requestSubscribers(t, srv, nsp) == 2 })
		disconnect(nsp)
		siotest.Eventually(t, "remote socket disconnected", func() bool { return !cb.S.Connected() })
		siotest.Eventually(t, "b's namespace removed", func() bool { return requestSubscribers(t, srv, nsp) == 1 })

		// Re-created on b by a new client: cross-server calls work again.
		cb2 := b.dial(t, nsp, "hello")
		siotest.Eventually(t, "b subscribed again", func() bool { return requestSubscribers(t, srv, nsp) == 2 })
		a.io.Of(nsp, nil).Emit("hello", i)
		if got := cb2.Expect("hello"); len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(i) {
			t.Fatalf("re-created namespace got %v", got)
		}
		var sockets []*socket.RemoteSocket
		var err error
		a.io.Of(nsp, nil).FetchSockets()(func(s []*socket.RemoteSocket, e error) { sockets, err = s, e })
		if err != nil || len(sockets) != 1 || string(sockets[0].Id()) != cb2.ID() {
			t.Fatalf("fetchSockets on the re-created namespace: %v, %v", sockets, err)
		}
	}
	a.close()
	b.close()
	siotest.AssertNoGoroutines(t, "sioredis/redisadapter.")
}

// TestCloseFromHandler calls io.Close from a server-side emit listener,
// which runs on the namespace's worker: it must return and leave nothing
// behind.
func TestCloseFromHandler(t *testing.T) {
	srv := redistest.Start(t)
	a, b := startDynServer(t, "a", srv), startDynServer(t, "b", srv)
	_ = b.dial(t, "/dyn-20")
	closed := make(chan struct{})
	b.io.On("shutdown", func(...any) {
		b.io.Close(nil)
		close(closed)
	})
	siotest.Eventually(t, "b subscribed", func() bool { return requestSubscribers(t, srv, "/") == 2 })
	if err := a.io.ServerSideEmit("shutdown"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("io.Close called from a listener did not return")
	}
	if b.builder.Healthy() {
		t.Fatal("b still healthy after io.Close")
	}
	siotest.Eventually(t, "b unsubscribed", func() bool {
		return requestSubscribers(t, srv, "/") == 1 && requestSubscribers(t, srv, "/dyn-20") == 0
	})
	b.close()
	a.close()
	siotest.AssertNoGoroutines(t, "sioredis/redisadapter.")
}

// TestManyDynamicNamespacesMemory creates hundreds of dynamic namespaces:
// an idle namespace must cost kilobytes, not a preallocated inbox of
// megabytes.
func TestManyDynamicNamespacesMemory(t *testing.T) {
	const count = 500
	srv := redistest.Start(t)
	a := startDynServer(t, "a", srv)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for i := 0; i < count; i++ {
		a.io.Of(fmt.Sprintf("/dyn-%d", 1000+i), nil)
	}
	after := heap()
	grown := int64(after) - int64(before)
	t.Logf("%d namespaces: heap %d MiB -> %d MiB (%d KiB per namespace)", count, before>>20, after>>20, grown/count>>10)
	if grown > 64<<20 {
		t.Fatalf("%d namespaces grew the heap by %d MiB", count, grown>>20)
	}
	if n := requestSubscribers(t, srv, fmt.Sprintf("/dyn-%d", 1000+count-1)); n != 1 {
		t.Fatalf("last namespace has %d subscribers", n)
	}
	a.close()
	siotest.AssertNoGoroutines(t, "sioredis/redisadapter.")
}

// TestInboxBound floods a namespace whose worker is stuck in a listener: its
// inbox holds at most WithInboxSize messages, drops and counts the rest, and
// applies the ones it kept, in order, once the worker is free.
func TestInboxBound(t *testing.T) {
	const size, sent = 16, 200
	srv := redistest.Start(t)
	// Heartbeats are received messages that pass through the inbox too: an
	// hour-long interval leaves only the start-up ones, which are waited
	// for below, so the flood is the only traffic that can be dropped.
	quiet := []redisadapter.Option{redisadapter.WithHeartbeatInterval(time.Hour), redisadapter.WithHeartbeatTimeout(2 * time.Hour)}
	a := startDynServer(t, "a", srv, append(quiet, redisadapter.WithInboxSize(size))...)
	b := startDynServer(t, "b", srv, quiet...)
	block := make(chan struct{})
	var mu sync.Mutex
	var got []int
	a.io.On("block", func(...any) { <-block })
	a.io.On("seq", func(args ...any) {
		mu.Lock()
		got = append(got, int(args[0].(float64)))
		mu.Unlock()
	})
	siotest.Eventually(t, "a subscribed", func() bool { return requestSubscribers(t, srv, "/") == 2 })
	siotest.Eventually(t, "a and b know each other", func() bool {
		return len(a.builder.Members()) > 0 && len(b.builder.Members()) > 0
	})
	base := a.builder.Stats()
	if err := b.io.ServerSideEmit("block"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < sent; i++ {
		if err := b.io.ServerSideEmit("seq", i); err != nil {
			t.Fatal(err)
		}
	}
	// The last seq message is received once b's publishes are all through
	// Redis: wait for Received to count the flood and then stay still, so
	// no drop is still to come when the worker is freed.
	var blocked redisadapter.Stats
	siotest.Eventually(t, "the flood received", func() bool {
		prev := a.builder.Stats()
		time.Sleep(100 * time.Millisecond)
		blocked = a.builder.Stats()
		return blocked.Received-base.Received >= sent+1 && blocked.Received == prev.Received
	})
	close(block)
	var n int
	siotest.Eventually(t, "kept messages applied", func() bool {
		mu.Lock()
		prev := len(got)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		n = len(got)
		mu.Unlock()
		return n > 0 && n == prev && a.builder.Stats().InboxDepth == 0
	})
	mu.Lock()
	defer mu.Unlock()
	// Every seq message was either applied or dropped and counted. Besides
	// block and the flood, a may receive a few heartbeats (b answers a's
	// start-up heartbeat), which can take an inbox slot or a drop.
	dropped := int(blocked.Dropped - base.Dropped)
	extra := int(blocked.Received-base.Received) - (sent + 1)
	if dropped < sent-n || dropped > sent-n+extra {
		t.Fatalf("applied %d and dropped %d of %d seq messages (%d other messages received)", n, dropped, sent, extra)
	}
	// The worker held one message (block) and the inbox at most size more.
	if n > size+1 {
		t.Fatalf("applied %d of %d messages with an inbox of %d", n, sent, size)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("messages applied out of order: %v", got)
		}
	}
	t.Logf("applied %d, dropped %d: %v", n, dropped, got)
}
