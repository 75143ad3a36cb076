package redisadapter_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/conformance"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// binding runs the shared scenarios of internal/conformance on this
// package's adapter and socket.io v3.0.6 servers.
var binding = conformance.Binding{
	Package: "sioredis/sio3/redisadapter.",
	New: func(rdb redis.UniversalClient, c conformance.Config) conformance.Builder {
		return builderOf(rdb, c)
	},
	Serve: func(t testing.TB, name string, rdb redis.UniversalClient, b conformance.Builder) conformance.Node {
		n := siotest.StartNode(t, name, rdb, b.(*redisadapter.Builder))
		return &node{name: name, url: n.URL, io: n.IO, builder: b.(*redisadapter.Builder), close: n.Close, dial: n.Dial}
	},
	ServeDynamic: func(t testing.TB, name string, rdb redis.UniversalClient, b conformance.Builder) conformance.Node {
		return serveDynamic(t, name, rdb, b.(*redisadapter.Builder))
	},
	Bytes: bytesOf,
	Binary: func() []any {
		return []any{[]byte{1, 2, 3}, map[string]any{"k": []byte{4, 5}}, types.NewBytesBuffer([]byte{6})}
	},
}

// builderOf builds the adapter a conformance.Config describes.
func builderOf(rdb redis.UniversalClient, c conformance.Config) *redisadapter.Builder {
	var opts []redisadapter.Option
	if c.RequestsTimeout > 0 {
		opts = append(opts, redisadapter.WithRequestsTimeout(c.RequestsTimeout))
	}
	if c.SpecificResponse {
		opts = append(opts, redisadapter.WithPublishOnSpecificResponseChannel(true))
	}
	if c.SubscriptionMode != "" {
		opts = append(opts, redisadapter.WithSubscriptionMode(c.SubscriptionMode))
	}
	if c.InboxSize > 0 {
		opts = append(opts, redisadapter.WithInboxSize(c.InboxSize))
	}
	if c.Logger != nil {
		opts = append(opts, redisadapter.WithLogger(c.Logger))
	}
	if c.HeartbeatInterval > 0 {
		opts = append(opts, redisadapter.WithHeartbeatInterval(c.HeartbeatInterval))
	}
	if c.HeartbeatTimeout > 0 {
		opts = append(opts, redisadapter.WithHeartbeatTimeout(c.HeartbeatTimeout))
	}
	if c.HealthCheckInterval > 0 {
		opts = append(opts, redisadapter.WithHealthCheckInterval(c.HealthCheckInterval))
	}
	switch c.Kind {
	case conformance.Sharded:
		return redisadapter.NewSharded(rdb, opts...)
	case conformance.Streams:
		return redisadapter.NewStreams(rdb, opts...)
	}
	return redisadapter.New(rdb, opts...)
}

// node is a socket.io server of a test as a conformance.Node.
type node struct {
	name, url string
	io        *socket.Server
	builder   *redisadapter.Builder
	close     func()
	dial      func(t testing.TB, nsp string, query url.Values, events ...string) *siotest.Client
}

var _ conformance.Node = (*node)(nil)

func (n *node) Name() string { return n.name }
func (n *node) URL() string  { return n.url }
func (n *node) Close()       { n.close() }
func (n *node) CloseServer() { n.io.Close(nil) }

func (n *node) Dial(t testing.TB, nsp string, query url.Values, events ...string) conformance.Client {
	t.Helper()
	return n.dial(t, nsp, query, events...)
}

// serveDynamic is a socket.io server with dynamic namespaces (/dyn-<n>)
// that socket.io removes once their last socket left
// (CleanupEmptyChildNamespaces).
func serveDynamic(t testing.TB, name string, rdb redis.UniversalClient, b *redisadapter.Builder) *node {
	t.Helper()
	so := socket.DefaultServerOptions()
	so.SetAdapter(b)
	so.SetCleanupEmptyChildNamespaces(true)
	io := socket.NewServer(nil, so)
	_ = io.Of(regexp.MustCompile(`^/dyn-\d+$`), func(args ...any) {
		_ = args[0].(*socket.Socket).Emit("ready")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	n := &node{name: name, io: io, builder: b, url: "http://" + ln.Addr().String()}
	var once sync.Once
	n.close = func() {
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
	// dial connects a client to nsp and waits for the server's "ready".
	n.dial = func(t testing.TB, nsp string, query url.Values, events ...string) *siotest.Client {
		t.Helper()
		c := siotest.Dial(t, n.url, nsp, query, append(events, "ready")...)
		c.Expect("ready")
		return c
	}
	t.Cleanup(n.close)
	return n
}

func (n *node) Healthy() bool                         { return n.builder.Healthy() }
func (n *node) WaitHealthy(ctx context.Context) error { return n.builder.WaitHealthy(ctx) }
func (n *node) Stats() sioredis.Stats                 { return n.builder.Stats() }
func (n *node) Members() []sioredis.Member            { return n.builder.Members() }

// op is the broadcast operator of t.
func (n *node) op(t conformance.Target) *socket.BroadcastOperator {
	nsp := t.Nsp
	if nsp == "" {
		nsp = "/"
	}
	o := n.io.Of(nsp, nil).To(rooms(t.Rooms)...)
	if len(t.Except) > 0 {
		o = o.Except(rooms(t.Except)...)
	}
	if t.Volatile {
		o = o.Volatile()
	}
	if t.Compress {
		o = o.Compress(true)
	}
	return o
}

func rooms(names []string) []socket.Room {
	out := make([]socket.Room, len(names))
	for i, r := range names {
		out[i] = socket.Room(r)
	}
	return out
}

func (n *node) Emit(to conformance.Target, ev string, args ...any) { _ = n.op(to).Emit(ev, args...) }

func (n *node) EmitWithAck(to conformance.Target, timeout time.Duration, ev string, args ...any) ([]any, error) {
	type result struct {
		got []any
		err error
	}
	first := make(chan result, 1)
	n.op(to).Timeout(timeout).EmitWithAck(ev, args...)(func(a []any, err error) {
		select {
		case first <- result{a, err}:
		default:
		}
	})
	r := <-first
	return r.got, r.err
}

func (n *node) FetchSockets(from conformance.Target) ([]conformance.RemoteSocket, error) {
	var sockets []*socket.RemoteSocket
	var err error
	n.op(from).FetchSockets()(func(s []*socket.RemoteSocket, e error) { sockets, err = s, e })
	out := make([]conformance.RemoteSocket, 0, len(sockets))
	for _, s := range sockets {
		var rs []string
		for _, r := range s.Rooms().Keys() {
			rs = append(rs, string(r))
		}
		h := s.Handshake()
		out = append(out, conformance.RemoteSocket{ID: string(s.Id()), Rooms: rs, Data: s.Data(),
			Query: h.Query, Headers: h.Headers, Issued: h.Issued, Handshake: h})
	}
	return out, err
}

func (n *node) SocketsJoin(from conformance.Target, room string) {
	n.op(from).SocketsJoin(socket.Room(room))
}
func (n *node) SocketsLeave(from conformance.Target, room string) {
	n.op(from).SocketsLeave(socket.Room(room))
}
func (n *node) DisconnectSockets(from conformance.Target, close bool) {
	n.op(from).DisconnectSockets(close)
}

func (n *node) ServerSideEmit(ev string, args ...any) error { return n.io.ServerSideEmit(ev, args...) }

func (n *node) ServerSideEmitWithAck(ev string, args ...any) ([]any, error) {
	var answers []any
	var ackErr error
	called := false
	err := n.io.ServerSideEmitWithAck(ev, args...)(func(a []any, e error) { answers, ackErr, called = a, e, true })
	if called {
		return answers, errors.Join(ackErr, err)
	}
	return answers, err
}

func (n *node) On(ev string, fn func(args []any) []any) {
	_ = n.io.On(ev, func(args ...any) {
		if len(args) > 0 {
			if ack, ok := args[len(args)-1].(socket.Ack); ok {
				ack(fn(args[:len(args)-1]), nil)
				return
			}
		}
		fn(args)
	})
}

func (n *node) OnConnect(pattern *regexp.Regexp, nsp, room string) {
	_ = n.io.Of(pattern, func(args ...any) {
		s := args[0].(*socket.Socket)
		if s.Nsp().Name() == nsp {
			s.Join(socket.Room(room))
		}
	})
}

func (n *node) Namespace(nsp string) { _ = n.io.Of(nsp, nil) }

func (n *node) Socket(nsp, id string) (conformance.LocalSocket, bool) {
	s, ok := n.io.Of(nsp, nil).Sockets().Load(socket.SocketId(id))
	if !ok {
		return nil, false
	}
	return localSocket{s}, true
}

// localSocket is a socket.Socket as a conformance.LocalSocket.
type localSocket struct{ s *socket.Socket }

func (l localSocket) Join(room string)  { l.s.Join(socket.Room(room)) }
func (l localSocket) Leave(room string) { l.s.Leave(socket.Room(room)) }

func (n *node) HasSocket(nsp, id string) bool {
	_, ok := n.io.Of(nsp, nil).Sockets().Load(socket.SocketId(id))
	return ok
}

func (n *node) Adapter(nsp string) (conformance.Adapter, bool) {
	a, ok := n.io.Of(nsp, nil).Adapter().(*redisadapter.Adapter)
	if !ok {
		return nil, false
	}
	return adapter{a}, true
}

// adapter is a redisadapter.Adapter as a conformance.Adapter.
type adapter struct{ *redisadapter.Adapter }

func (a adapter) AllRooms(ctx context.Context) ([]string, error) {
	set, err := a.Adapter.AllRooms(ctx)
	if set == nil {
		return nil, err
	}
	out := []string{}
	for _, r := range set.Keys() {
		out = append(out, string(r))
	}
	return out, err
}

func (a adapter) CachedHandshakes() int { return redisadapter.CachedHandshakes(a.Adapter) }

func (a adapter) Rooms() []string {
	var out []string
	a.Adapter.Rooms().Range(func(r socket.Room, _ *types.Set[socket.SocketId]) bool {
		out = append(out, string(r))
		return true
	})
	return out
}

// bytesOf is the bytes of a binary value as the client delivers it.
func bytesOf(v any) []byte {
	switch b := v.(type) {
	case []byte:
		return b
	case types.BufferInterface:
		return b.Bytes()
	}
	return nil
}
