package conformance

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
)

// startDyn starts a node of b with dynamic namespaces (see
// Binding.ServeDynamic) and the classic adapter, requests timeout 2 s.
func startDyn(t *testing.T, b Binding, name string, srv *redistest.Server, cfg Config) Node {
	t.Helper()
	rdb := redis.NewClient(srv.Options())
	cfg.RequestsTimeout = 2 * time.Second
	return b.ServeDynamic(t, name, rdb, b.New(rdb, cfg))
}

// requestSubscribers is the number of servers subscribed to nsp's request
// channel: the servers where nsp exists.
func requestSubscribers(t *testing.T, srv *redistest.Server, nsp string) int64 {
	t.Helper()
	ch := protocol.RequestChannel(protocol.DefaultPrefix, nsp)
	m, err := srv.Client(t).PubSubNumSub(await.Ctx(t), ch).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m[ch]
}

// RunDynamicNamespaceDisconnectPublishes disconnects every socket of a
// dynamic namespace from the server that holds its last local socket: the
// request must still reach the other server, although disconnecting the
// local socket removes the namespace (and closes its adapter).
func RunDynamicNamespaceDisconnectPublishes(t *testing.T, b Binding) {
	srv := redistest.Start(t)
	na, nb := startDyn(t, b, "a", srv, Config{}), startDyn(t, b, "b", srv, Config{})
	ca := na.Dial(t, "/dyn-1", nil)
	cb := nb.Dial(t, "/dyn-1", nil)
	await.Eventually(t, "both servers subscribed", func() bool { return requestSubscribers(t, srv, "/dyn-1") == 2 })

	na.DisconnectSockets(Target{Nsp: "/dyn-1"}, false)
	await.Eventually(t, "local socket disconnected", func() bool { return !ca.Connected() })
	await.Eventually(t, "remote socket disconnected", func() bool { return !cb.Connected() })
	await.Eventually(t, "both namespaces removed", func() bool { return requestSubscribers(t, srv, "/dyn-1") == 0 })
	na.Close()
	nb.Close()
	await.NoGoroutines(t, b.Package)
}

// RunDynamicNamespaceRemoteCleanup empties a dynamic namespace with a
// remote DisconnectSockets, from another server and from the emitter. Its
// adapter is then closed on its own worker, which must not wait for itself;
// the namespace must work again once re-created, and nothing may be left
// after io.Close.
func RunDynamicNamespaceRemoteCleanup(t *testing.T, b Binding) {
	srv := redistest.Start(t)
	na, nb := startDyn(t, b, "a", srv, Config{}), startDyn(t, b, "b", srv, Config{})
	em := emitter.New(srv.Client(t))
	for i, disconnect := range []func(nsp string){
		func(nsp string) { na.DisconnectSockets(Target{Nsp: nsp}, false) },
		func(nsp string) {
			if err := em.Of(nsp).DisconnectSockets(false); err != nil {
				t.Fatal(err)
			}
		},
	} {
		nsp := fmt.Sprintf("/dyn-%d", 10+i)
		na.Namespace(nsp) // exists on a too, without sockets
		cb := nb.Dial(t, nsp, nil)
		await.Eventually(t, "both subscribed", func() bool { return requestSubscribers(t, srv, nsp) == 2 })
		disconnect(nsp)
		await.Eventually(t, "remote socket disconnected", func() bool { return !cb.Connected() })
		await.Eventually(t, "b's namespace removed", func() bool { return requestSubscribers(t, srv, nsp) == 1 })

		// Re-created on b by a new client: cross-server calls work again.
		cb2 := nb.Dial(t, nsp, nil, "hello")
		await.Eventually(t, "b subscribed again", func() bool { return requestSubscribers(t, srv, nsp) == 2 })
		na.Emit(Target{Nsp: nsp}, "hello", i)
		if got := cb2.Expect("hello"); len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(i) {
			t.Fatalf("re-created namespace got %v", got)
		}
		sockets, err := na.FetchSockets(Target{Nsp: nsp})
		if err != nil || len(sockets) != 1 || sockets[0].ID != cb2.ID() {
			t.Fatalf("fetchSockets on the re-created namespace: %v, %v", sockets, err)
		}
	}
	na.Close()
	nb.Close()
	await.NoGoroutines(t, b.Package)
}

// RunCloseFromHandler calls io.Close from a server-side emit listener,
// which runs on the namespace's worker: it must return and leave nothing
// behind.
func RunCloseFromHandler(t *testing.T, b Binding) {
	srv := redistest.Start(t)
	na, nb := startDyn(t, b, "a", srv, Config{}), startDyn(t, b, "b", srv, Config{})
	_ = nb.Dial(t, "/dyn-20", nil)
	closed := make(chan struct{})
	nb.On("shutdown", func([]any) []any {
		nb.CloseServer()
		close(closed)
		return nil
	})
	await.Eventually(t, "b subscribed", func() bool { return requestSubscribers(t, srv, "/") == 2 })
	if err := na.ServerSideEmit("shutdown"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("io.Close called from a listener did not return")
	}
	if nb.Healthy() {
		t.Fatal("b still healthy after io.Close")
	}
	await.Eventually(t, "b unsubscribed", func() bool {
		return requestSubscribers(t, srv, "/") == 1 && requestSubscribers(t, srv, "/dyn-20") == 0
	})
	nb.Close()
	na.Close()
	await.NoGoroutines(t, b.Package)
}

// RunManyDynamicNamespacesMemory creates hundreds of dynamic namespaces:
// an idle namespace must cost kilobytes, not a preallocated inbox of
// megabytes.
func RunManyDynamicNamespacesMemory(t *testing.T, b Binding) {
	const count = 500
	srv := redistest.Start(t)
	a := startDyn(t, b, "a", srv, Config{})
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for i := 0; i < count; i++ {
		a.Namespace(fmt.Sprintf("/dyn-%d", 1000+i))
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
	a.Close()
	await.NoGoroutines(t, b.Package)
}

// RunInboxBound floods a namespace whose worker is stuck in a listener: its
// inbox holds at most WithInboxSize messages, drops and counts the rest, and
// applies the ones it kept, in order, once the worker is free.
func RunInboxBound(t *testing.T, b Binding) {
	const size, sent = 16, 200
	srv := redistest.Start(t)
	// Heartbeats are received messages that pass through the inbox too: an
	// hour-long interval leaves only the start-up ones, which are waited
	// for below, so the flood is the only traffic that can be dropped.
	quiet := Config{HeartbeatInterval: time.Hour, HeartbeatTimeout: 2 * time.Hour}
	small := quiet
	small.InboxSize = size
	na := startDyn(t, b, "a", srv, small)
	nb := startDyn(t, b, "b", srv, quiet)
	block := make(chan struct{})
	var mu sync.Mutex
	var got []int
	na.On("block", func([]any) []any { <-block; return nil })
	na.On("seq", func(args []any) []any {
		mu.Lock()
		got = append(got, int(args[0].(float64)))
		mu.Unlock()
		return nil
	})
	await.Eventually(t, "a subscribed", func() bool { return requestSubscribers(t, srv, "/") == 2 })
	await.Eventually(t, "a and b know each other", func() bool {
		return len(na.Members()) > 0 && len(nb.Members()) > 0
	})
	base := na.Stats()
	if err := nb.ServerSideEmit("block"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < sent; i++ {
		if err := nb.ServerSideEmit("seq", i); err != nil {
			t.Fatal(err)
		}
	}
	// The last seq message is received once b's publishes are all through
	// Redis: wait for Received to count the flood and then stay still, so
	// no drop is still to come when the worker is freed.
	var blocked sioredis.Stats
	await.Eventually(t, "the flood received", func() bool {
		prev := na.Stats()
		time.Sleep(100 * time.Millisecond)
		blocked = na.Stats()
		return blocked.Received-base.Received >= sent+1 && blocked.Received == prev.Received
	})
	close(block)
	var n int
	await.Eventually(t, "kept messages applied", func() bool {
		mu.Lock()
		prev := len(got)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		n = len(got)
		mu.Unlock()
		return n > 0 && n == prev && na.Stats().InboxDepth == 0
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
