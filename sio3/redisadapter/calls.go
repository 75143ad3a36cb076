package redisadapter

import (
	"context"
	"fmt"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sioredis/sioredis"
)

// Go-native cluster calls. Each waits for one answer from every live Go
// server that announces the request kind and from every server without
// heartbeat (Node) that Redis counts; a server declared dead or departed
// is not waited for, even by a call already waiting (see the README's
// Membership section). When the answers are not all there when ctx is
// done, or a server the call waited for died or left, the call returns
// what arrived with a *PartialError (errors.As) naming the servers that
// did not answer; it wraps ErrTimeout and context.DeadlineExceeded,
// context.Canceled, or ErrServerGone. A ctx without deadline gets the
// requests timeout. socket.io's own callback API (FetchSockets,
// ServerSideEmit with an ack, EmitWithAck) keeps its behaviour.

// Member is another Go server of the cluster as its heartbeats announce it
// ([sioredis.Member]).
type Member = sioredis.Member

// MemberEvent is a join or a departure ([sioredis.MemberEvent]).
type MemberEvent = sioredis.MemberEvent

// The kinds of [MemberEvent].
const (
	MemberJoined = sioredis.MemberJoined
	MemberLeft   = sioredis.MemberLeft
	MemberDead   = sioredis.MemberDead
)

// Members lists the live Go servers of this namespace, this one excluded.
func (a *Adapter) Members() []Member { return a.core.Members() }

// FetchSocketsContext returns the sockets matching opts (nil: all) of
// every server, this one's first.
func (a *Adapter) FetchSocketsContext(ctx context.Context, opts *socket.BroadcastOptions) ([]socket.SocketDetails, error) {
	ctx, cancel := a.core.Bounded(ctx)
	defer cancel()
	return a.fetchSockets(ctx, opts)
}

// AllRoomsContext returns the rooms of every server, socket-id rooms
// included. The sharded format has no such request: there it returns the
// local rooms and an error wrapping ErrNotSupported.
func (a *Adapter) AllRoomsContext(ctx context.Context) (*types.Set[socket.Room], error) {
	return a.AllRooms(ctx) // which bounds ctx
}

// ServerSideEmitWithAckContext calls the other servers' handlers of
// event ev (io.On(ev, func(args ...any))) and returns one answer per
// server: the argument each passed to its acknowledgement.
func (a *Adapter) ServerSideEmitWithAckContext(ctx context.Context, ev string, args ...any) ([]any, error) {
	w, err := toWire(append([]any{ev}, args...))
	if err != nil {
		return nil, fmt.Errorf("sioredis: serverSideEmit: %w", err)
	}
	ctx, cancel := a.core.Bounded(ctx)
	defer cancel()
	return a.core.ServerSideEmitWithAck(ctx, w.([]any))
}

// BroadcastWithAckContext emits event ev to the clients selected by opts
// (nil: all) on every server and returns their acknowledgements (the
// arguments of each, in arrival order), as
// io.Timeout(d).EmitWithAck(ev, args...) does, with ctx instead of the
// timeout flag.
func (a *Adapter) BroadcastWithAckContext(ctx context.Context, opts *socket.BroadcastOptions, ev string, args ...any) ([]any, error) {
	opts = withNonNilSets(opts)
	if a.core.Closed() {
		return nil, fmt.Errorf("sioredis: broadcastWithAck: %w", ErrClosed)
	}
	p := &parser.Packet{Type: parser.EVENT, Data: append([]any{ev}, args...)}
	wo := optionsFromSocket(opts)
	wp, err := packetFromSocket(p)
	if err != nil {
		return nil, fmt.Errorf("sioredis: broadcastWithAck: %w", err)
	}
	ctx, cancel := a.core.Bounded(ctx)
	defer cancel()
	return a.core.BroadcastWithAckContext(ctx, wp, wo, func(count func(uint64), ack func([]any, error)) {
		local := *p
		a.deliverWithAck(&local, opts, count, ack)
	})
}
