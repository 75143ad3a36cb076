package redisadapter_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/engine.io/v2/types"
	client "github.com/zishang520/socket.io-client-go/socket"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/redisadapter"
)

// node is one socket.io server of a test cluster: its own Redis client, its
// own adapter builder and its own HTTP listener.
type node struct {
	t    testing.TB
	name string
	io   *socket.Server
	b    *redisadapter.Builder
	rdb  redis.UniversalClient
	url  string
	srv  *http.Server
	once sync.Once
}

// startNode starts a server. Every connected socket gets handlers the tests
// drive: "join" (rooms..., ack), "leave" (room, ack), "set-data" (value, ack).
func startNode(t testing.TB, name string, rdb redis.UniversalClient, b *redisadapter.Builder) *node {
	t.Helper()
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(b)
	io := socket.NewServer(nil, opts)
	n := &node{t: t, name: name, io: io, b: b, rdb: rdb}
	setup := func(args ...any) {
		s := args[0].(*socket.Socket)
		s.On("join", func(a ...any) {
			for _, r := range a[:len(a)-1] {
				s.Join(socket.Room(r.(string)))
			}
			a[len(a)-1].(socket.Ack)([]any{"ok"}, nil)
		})
		s.On("leave", func(a ...any) {
			s.Leave(socket.Room(a[0].(string)))
			a[len(a)-1].(socket.Ack)([]any{"ok"}, nil)
		})
		s.On("set-data", func(a ...any) {
			s.SetData(a[0])
			a[len(a)-1].(socket.Ack)([]any{"ok"}, nil)
		})
	}
	io.On("connection", setup)
	io.Of("/admin", nil).On("connection", setup)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	n.srv = &http.Server{Handler: mux}
	go func() { _ = n.srv.Serve(ln) }()
	n.url = "http://" + ln.Addr().String()
	t.Cleanup(n.close)
	return n
}

func (n *node) close() {
	n.once.Do(func() {
		done := make(chan struct{})
		n.io.Close(func(error) { close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			n.t.Errorf("%s: io.Close did not finish", n.name)
		}
		_ = n.srv.Close()
		_ = n.rdb.Close()
	})
}

func (n *node) adapter(nsp string) *redisadapter.Adapter {
	return n.io.Of(nsp, nil).Adapter().(*redisadapter.Adapter)
}

// tclient is a real socket.io client over a real WebSocket connection that
// records the events it receives.
type tclient struct {
	t   testing.TB
	s   *client.Socket
	mu  sync.Mutex
	got map[string]chan []any
}

// dial connects a client to a node's namespace. socket.io-client-go v1.1.0
// has a rare start-up race where the client never connects: each attempt is
// bounded and retried with a fresh client.
func dial(t testing.TB, n *node, nsp string, query url.Values, events ...string) *tclient {
	t.Helper()
	var last error
	for attempt := 0; attempt < 4; attempt++ {
		opts := client.DefaultOptions()
		opts.SetTransports(types.NewSet(client.WebSocket))
		opts.SetForceNew(true)
		opts.SetMultiplex(false)
		opts.SetReconnection(false)
		if query != nil {
			opts.SetQuery(query)
		}
		s, err := client.Connect(n.url+nsp, opts)
		if err != nil {
			last = err
			continue
		}
		c := &tclient{t: t, s: s, got: map[string]chan []any{}}
		for _, ev := range events {
			c.listen(ev)
		}
		connected := make(chan struct{})
		s.Once("connect", func(...any) { close(connected) })
		if s.Connected() {
			t.Cleanup(func() { s.Disconnect() })
			return c
		}
		select {
		case <-connected:
			t.Cleanup(func() { s.Disconnect() })
			return c
		case <-time.After(5 * time.Second):
			last = fmt.Errorf("connect to %s%s timed out", n.url, nsp)
			s.Disconnect()
		}
	}
	t.Fatalf("dial: %v", last)
	return nil
}

func (c *tclient) ch(ev string) chan []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.got[ev]
	if !ok {
		ch = make(chan []any, 64)
		c.got[ev] = ch
	}
	return ch
}

func (c *tclient) listen(ev string) {
	ch := c.ch(ev)
	c.s.On(types.EventName(ev), func(args ...any) { ch <- args })
}

// expect waits for one ev event and returns its arguments.
func (c *tclient) expect(ev string) []any {
	c.t.Helper()
	select {
	case args := <-c.ch(ev):
		return args
	case <-time.After(5 * time.Second):
		c.t.Fatalf("client %s: no %q event", c.s.Id(), ev)
		return nil
	}
}

// expectNone asserts that no ev event arrives within d.
func (c *tclient) expectNone(ev string, d time.Duration) {
	c.t.Helper()
	select {
	case args := <-c.ch(ev):
		c.t.Fatalf("client %s: unexpected %q event %v", c.s.Id(), ev, args)
	case <-time.After(d):
	}
}

// call emits an event with an ack and waits for the server's answer.
func (c *tclient) call(ev string, args ...any) []any {
	c.t.Helper()
	res := make(chan []any, 1)
	err := c.s.Emit(ev, append(args, func(a []any, err error) { res <- a })...)
	if err != nil {
		c.t.Fatal(err)
	}
	select {
	case a := <-res:
		return a
	case <-time.After(5 * time.Second):
		c.t.Fatalf("no ack for %q", ev)
		return nil
	}
}

func (c *tclient) id() string { return c.s.Id() }

// eventually polls cond until it holds or 5 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertNoAdapterGoroutines fails when goroutines of this package outlive
// the servers that started them.
func assertNoAdapterGoroutines(t testing.TB) {
	t.Helper()
	var stacks string
	for i := 0; i < 100; i++ {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		leaked := false
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "sioredis/redisadapter.") && !strings.Contains(g, "_test.") &&
				!strings.Contains(g, "testing.tRunner") {
				leaked = true
				break
			}
		}
		if !leaked {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("adapter goroutines leaked:\n%s", stacks)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
