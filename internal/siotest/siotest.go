// Package siotest runs real socket.io servers and real socket.io clients for
// tests: servers on loopback HTTP listeners with any adapter, and clients
// (github.com/zishang520/socket.io-client-go) over real WebSockets that
// record the events they receive.
package siotest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/exactlyonce"
	"github.com/sioredis/sioredis/internal/rawclient"
	"github.com/zishang520/engine.io/v2/types"
	client "github.com/zishang520/socket.io-client-go/socket"
	"github.com/zishang520/socket.io/v2/socket"
)

// Node is one socket.io server of a test cluster: its own Redis client, its
// own adapter and its own HTTP listener.
type Node struct {
	t    testing.TB
	Name string
	IO   *socket.Server
	// Adapter is what was passed to SetAdapter.
	Adapter socket.AdapterConstructor
	// RDB is closed with the node (may be nil).
	RDB  redis.UniversalClient
	URL  string
	srv  *http.Server
	once sync.Once
}

// StartNode starts a server with namespaces "/" and "/admin" and closes it
// (and rdb) when the test ends. Every connected socket gets handlers the
// tests drive: "join" (rooms..., ack), "leave" (room, ack), "set-data"
// (value, ack).
func StartNode(t testing.TB, name string, rdb redis.UniversalClient, b socket.AdapterConstructor) *Node {
	t.Helper()
	return StartNodeWith(t, name, rdb, b, nil)
}

// StartNodeWith is StartNode with configure applied to the server options
// (connection state recovery, for instance) before the server starts.
func StartNodeWith(t testing.TB, name string, rdb redis.UniversalClient, b socket.AdapterConstructor,
	configure func(*socket.ServerOptions)) *Node {
	t.Helper()
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(b)
	if configure != nil {
		configure(opts)
	}
	io := socket.NewServer(nil, opts)
	n := &Node{t: t, Name: name, IO: io, Adapter: b, RDB: rdb}
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
	ready := func(args ...any) {
		setup(args...)
		// socket.io (Go) dispatches each incoming packet on its own
		// goroutine, so a client event can race the connection handler
		// that registers its listener. Node.Dial waits for this signal.
		args[0].(*socket.Socket).Emit(rawclient.ReadyEvent)
	}
	io.On("connection", ready)
	io.Of("/admin", nil).On("connection", ready)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	// Load balancers in front of test nodes probe it.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	n.srv = &http.Server{Handler: mux}
	go func() { _ = n.srv.Serve(ln) }()
	n.URL = "http://" + ln.Addr().String()
	t.Cleanup(n.Close)
	return n
}

// Close closes the socket.io server (and so its adapters), the listener and
// the Redis client. It is safe to call more than once.
func (n *Node) Close() {
	n.once.Do(func() {
		done := make(chan struct{})
		n.IO.Close(func(error) { close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			n.t.Errorf("%s: io.Close did not finish", n.Name)
		}
		_ = n.srv.Close()
		if n.RDB != nil {
			_ = n.RDB.Close()
		}
	})
}

// Has reports whether socket id is connected to this node's namespace nsp.
func (n *Node) Has(nsp, id string) bool {
	_, ok := n.IO.Of(nsp, nil).Sockets().Load(socket.SocketId(id))
	return ok
}

// Dial connects a client to this node like [Dial] and also waits until the
// server registered the socket's handlers, so that the client's first
// events cannot race the connection handler.
func (n *Node) Dial(t testing.TB, nsp string, query url.Values, events ...string) *Client {
	t.Helper()
	for attempt := 0; ; attempt++ {
		c := Dial(t, n.URL, nsp, query, append(events, rawclient.ReadyEvent)...)
		select {
		case <-c.Chan(rawclient.ReadyEvent):
			return c
		case <-time.After(3 * time.Second):
			// Rare: socket.io-client-go handles packets on several
			// goroutines and can lose an event that overtakes CONNECT.
			c.S.Disconnect()
			if attempt == 3 {
				t.Fatalf("%s: no %q event after %d connections", n.Name, rawclient.ReadyEvent, attempt+1)
			}
		}
	}
}

// Client is a real socket.io client over a real WebSocket connection that
// records the events it receives.
type Client struct {
	// Recorder keeps the recorded events; its T is where the checks
	// report.
	*exactlyonce.Recorder
	// S is the underlying client socket.
	S *client.Socket
}

// Dial connects a client to the socket.io server at baseURL (namespace nsp)
// over WebSocket and records the given events. socket.io-client-go v1.1.0
// has a rare start-up race where the client never connects: each attempt is
// bounded and retried with a fresh client. The client disconnects when the
// test ends.
func Dial(t testing.TB, baseURL, nsp string, query url.Values, events ...string) *Client {
	t.Helper()
	return DialWith(t, baseURL, nsp, func(o *client.Options) {
		if query != nil {
			o.SetQuery(query)
		}
	}, events...)
}

// DialWith is Dial with client options of the caller's: configure runs on
// the defaults (WebSocket only, a manager of its own, no reconnection) of
// every attempt, e.g. to select long-polling or add headers.
//
// The client sends exactly one CONNECT. socket.io-client-go v1.1.0's
// client.Connect can send two: Socket.Connect subscribes to the manager's
// "open" event and then calls onopen itself if the manager is already open,
// and the engine's reader goroutine can open the manager between the two,
// so both paths send CONNECT. The server then creates a second socket on the
// same connection, in the namespace but in no room of the first, and every
// broadcast it receives reaches the client twice (see
// docs/notes/duplicate-delivery.md). Here the manager is opened first, with
// auto-connect off, and the socket is connected once the manager is open:
// only the direct onopen call remains.
func DialWith(t testing.TB, baseURL, nsp string, configure func(*client.Options), events ...string) *Client {
	t.Helper()
	var last error
	for attempt := 0; attempt < 4; attempt++ {
		opts := client.DefaultOptions()
		opts.SetTransports(types.NewSet(client.WebSocket))
		opts.SetForceNew(true)
		opts.SetMultiplex(false)
		opts.SetReconnection(false)
		if configure != nil {
			configure(opts)
		}
		opts.SetAutoConnect(false)
		s, err := connectOnce(baseURL, nsp, opts)
		if err != nil {
			last = err
			continue
		}
		c := &Client{Recorder: &exactlyonce.Recorder{T: t, ID: s.Id}, S: s}
		for _, ev := range events {
			c.Listen(ev)
		}
		connected := make(chan struct{})
		s.Once("connect", func(...any) { close(connected) })
		s.Connect()
		select {
		case <-connected:
			t.Cleanup(func() { s.Disconnect() })
			return c
		case <-time.After(5 * time.Second):
			last = fmt.Errorf("connect to %s%s timed out", baseURL, nsp)
			s.Disconnect()
		}
	}
	t.Fatalf("dial: %v", last)
	return nil
}

// connectOnce opens a manager of its own and returns a socket of nsp on it
// that is not connected yet: its Connect finds the manager open and sends
// one CONNECT.
func connectOnce(baseURL, nsp string, opts *client.Options) (*client.Socket, error) {
	m := client.NewManager(baseURL, opts)
	opened := make(chan error, 1)
	m.Open(func(err error) { opened <- err })
	select {
	case err := <-opened:
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", baseURL, err)
		}
	case <-time.After(3 * time.Second):
		// engine.io-client-go can emit "open" before the manager
		// listens for it; the caller retries with a fresh manager.
		if e := m.Engine(); e != nil {
			e.Close()
		}
		return nil, fmt.Errorf("open %s timed out", baseURL)
	}
	return m.Socket(nsp, opts), nil
}

// Listen starts recording ev events.
func (c *Client) Listen(ev string) {
	record := c.Record(ev)
	c.S.On(types.EventName(ev), func(args ...any) { record(args) })
}

// Call emits an event with an ack and waits for the server's answer.
func (c *Client) Call(ev string, args ...any) []any {
	c.T.Helper()
	res := make(chan []any, 1)
	err := c.S.Emit(ev, append(args, func(a []any, err error) { res <- a })...)
	if err != nil {
		c.T.Fatal(err)
	}
	select {
	case a := <-res:
		return a
	case <-time.After(10 * time.Second):
		c.T.Fatalf("no ack for %q", ev)
		return nil
	}
}

// Answer makes the client acknowledge every ev event the server sends with
// an ack, with the arguments fn returns for the event's arguments.
func (c *Client) Answer(ev string, fn func(args []any) []any) {
	_ = c.S.On(types.EventName(ev), func(args ...any) {
		if ack, ok := args[len(args)-1].(func([]any, error)); ok {
			ack(fn(args[:len(args)-1]), nil)
		}
	})
}

// Disconnect closes the client's socket.
func (c *Client) Disconnect() { c.S.Disconnect() }

// Connected reports whether the client's socket is connected.
func (c *Client) Connected() bool { return c.S.Connected() }

// ID is the socket id.
func (c *Client) ID() string { return c.S.Id() }

// Eventually polls cond until it holds or 5 s pass (see [await.Eventually]).
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	await.Eventually(t, what, cond)
}

// AssertNoGoroutines fails when goroutines whose stacks mention pkg (the
// binding's package, e.g. "sioredis/redisadapter.") or the shared core
// outlive the servers that started them (see [await.NoGoroutines]).
func AssertNoGoroutines(t testing.TB, pkg string) {
	t.Helper()
	await.NoGoroutines(t, pkg)
}

// Ctx returns a context cancelled after 10 s or when the test ends.
func Ctx(t testing.TB) context.Context { return await.Ctx(t) }

// SessionStored waits until the connection state recovery session of pid
// is in Redis under Node's default key ("sio:session:" + pid):
// PersistSession queues its SET without waiting for it, so a client that
// comes back before it would connect fresh.
func SessionStored(t testing.TB, rdb redis.Cmdable, pid string) {
	t.Helper()
	Eventually(t, "the session in Redis", func() bool {
		n, err := rdb.Exists(Ctx(t), "sio:session:"+pid).Result()
		return err == nil && n == 1
	})
}
