package redisadapter_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/conformance"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// binding runs the shared scenarios of internal/conformance on this
// package's adapter and socket.io v2.5.0 servers.
var binding = conformance.Binding{
	Package: "sioredis/redisadapter.",
	New: func(rdb redis.UniversalClient, c conformance.Config) conformance.Builder {
		return builderOf(rdb, c)
	},
	Serve: func(t testing.TB, name string, rdb redis.UniversalClient, b conformance.Builder) conformance.Node {
		return &node{Node: siotest.StartNode(t, name, rdb, b.(*redisadapter.Builder))}
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
	switch c.Kind {
	case conformance.Sharded:
		return redisadapter.NewSharded(rdb, opts...)
	case conformance.Streams:
		return redisadapter.NewStreams(rdb, opts...)
	}
	return redisadapter.New(rdb, opts...)
}

// node is a siotest.Node as a conformance.Node.
type node struct{ *siotest.Node }

var _ conformance.Node = (*node)(nil)

func (n *node) Name() string { return n.Node.Name }
func (n *node) URL() string  { return n.Node.URL }

func (n *node) CloseServer() {
	done := make(chan struct{})
	n.IO.Close(func(error) { close(done) })
	<-done
}

func (n *node) Dial(t testing.TB, nsp string, query url.Values, events ...string) conformance.Client {
	t.Helper()
	return n.Node.Dial(t, nsp, query, events...)
}

func (n *node) builder() *redisadapter.Builder { return n.Node.Adapter.(*redisadapter.Builder) }

func (n *node) Healthy() bool                         { return n.builder().Healthy() }
func (n *node) WaitHealthy(ctx context.Context) error { return n.builder().WaitHealthy(ctx) }
func (n *node) Stats() sioredis.Stats                 { return n.builder().Stats() }
func (n *node) Members() []sioredis.Member            { return n.builder().Members() }

// op is the broadcast operator of t.
func (n *node) op(t conformance.Target) *socket.BroadcastOperator {
	nsp := t.Nsp
	if nsp == "" {
		nsp = "/"
	}
	o := n.IO.Of(nsp, nil).To(rooms(t.Rooms)...)
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
			Query: anyValues(h.Query), Headers: anyValues(h.Headers), Issued: h.Issued})
	}
	return out, err
}

// anyValues is m with its values as any; a nil value stays out, so that it
// reads as nil.
func anyValues(m map[string][]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = v
		}
	}
	return out
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

func (n *node) ServerSideEmit(ev string, args ...any) error { return n.IO.ServerSideEmit(ev, args...) }

func (n *node) ServerSideEmitWithAck(ev string, args ...any) ([]any, error) {
	var answers []any
	var ackErr error
	called := false
	err := n.IO.ServerSideEmitWithAck(ev, args...)(func(a []any, e error) { answers, ackErr, called = a, e, true })
	if called {
		return answers, errors.Join(ackErr, err)
	}
	return answers, err
}

func (n *node) On(ev string, fn func(args []any) []any) {
	_ = n.IO.On(ev, func(args ...any) {
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
	n.IO.Of(pattern, func(args ...any) {
		s := args[0].(*socket.Socket)
		if s.Nsp().Name() == nsp {
			s.Join(socket.Room(room))
		}
	})
}

func (n *node) Namespace(nsp string) { n.IO.Of(nsp, nil) }

func (n *node) HasSocket(nsp, id string) bool { return n.Has(nsp, id) }

func (n *node) Adapter(nsp string) (conformance.Adapter, bool) {
	a, ok := n.IO.Of(nsp, nil).Adapter().(*redisadapter.Adapter)
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

func (a adapter) Rooms() []string {
	var out []string
	a.Adapter.Rooms().Range(func(r socket.Room, _ *types.Set[socket.SocketId]) bool {
		out = append(out, string(r))
		return true
	})
	return out
}
