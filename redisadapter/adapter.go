package redisadapter

import (
	"context"
	"fmt"
	"time"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/core"
)

// Adapter is the socket.io adapter of one namespace. Besides the
// socket.Adapter methods it offers [Adapter.AllRooms] and
// [Adapter.ServerCountContext]; reach it with
// io.Of("/").Adapter().(*redisadapter.Adapter).
//
// It is the socket.io v2.5.0 side of the adapter: local rooms and delivery
// (the embedded in-memory adapter and delivery.go) and the conversion of
// socket.io's types. What crosses servers is internal/core's.
type Adapter struct {
	socket.Adapter // the in-memory adapter: local rooms and delivery

	core       *core.Adapter
	cfg        core.Config // the builder's options
	name       string
	handshakes handshakeCache    // encoded handshakes of local sockets (fetchSockets)
	restoring  core.RestoreHolds // restored sockets not connected yet (streams)
}

func newAdapter(b *Builder, nsp socket.Namespace) *Adapter {
	a := &Adapter{Adapter: socket.MakeAdapter(), name: nsp.Name(), cfg: b.hub.Config()}
	a.Prototype(a)
	a.Construct(nsp)
	a.core = b.hub.NewAdapter(a.name, local{a})
	a.On("create-room", func(args ...any) {
		if room, ok := args[0].(socket.Room); ok {
			a.core.RoomCreated(string(room))
		}
	})
	a.On("delete-room", func(args ...any) {
		if room, ok := args[0].(socket.Room); ok {
			a.core.RoomDeleted(string(room))
		}
	})
	return a
}

// Uid returns the adapter's uid, unique per server and namespace.
func (a *Adapter) Uid() string { return a.core.Uid() }

// Close unsubscribes the namespace, fails its pending requests and stops its
// worker. socket.io calls it from io.Close and when it removes an empty
// child namespace. It is safe from any goroutine, the namespace's own
// worker included (a listener that calls io.Close, a remote
// DisconnectSockets that empties a dynamic namespace).
func (a *Adapter) Close() {
	if !a.core.Close() {
		return
	}
	a.handshakes.Clear()
	a.Adapter.Close()
}

// ServerCount returns the number of servers that have this namespace,
// this one included (PUBSUB NUMSUB, or SHARDNUMSUB for the sharded adapter,
// summed over a Redis Cluster). A count computed in the last 200 ms is
// reused: socket.io asks for it right after every broadcast with acks, which
// has just counted. On a Redis error it logs and returns 1; use
// [Adapter.ServerCountContext] to see the error.
func (a *Adapter) ServerCount() int64 { return a.core.ServerCount() }

// ServerCountContext is ServerCount with a context and an error.
func (a *Adapter) ServerCountContext(ctx context.Context) (int64, error) {
	return a.core.ServerCountContext(ctx)
}

// PendingRequests is the number of cross-server requests of this namespace
// still waiting for answers (diagnostics: it returns to 0 once every request
// was answered, timed out or the adapter closed).
func (a *Adapter) PendingRequests() int { return a.core.PendingRequests() }

// ActiveRoomChannels lists the room channels the adapter is subscribed to
// (sharded dynamic modes); nil for the classic adapter.
func (a *Adapter) ActiveRoomChannels() []string { return a.core.RoomChannels() }

func isLocal(opts *socket.BroadcastOptions) bool {
	return opts != nil && opts.Flags != nil && opts.Flags.Local
}

func withNonNilSets(opts *socket.BroadcastOptions) *socket.BroadcastOptions {
	if opts == nil {
		opts = &socket.BroadcastOptions{}
	}
	if opts.Rooms == nil || opts.Except == nil {
		o := *opts
		if o.Rooms == nil {
			o.Rooms = types.NewSet[socket.Room]()
		}
		if o.Except == nil {
			o.Except = types.NewSet[socket.Room]()
		}
		opts = &o
	}
	return opts
}

// Broadcast publishes the packet to the other servers (unless flagged
// local), then delivers it to the local sockets.
func (a *Adapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	opts = withNonNilSets(opts)
	if !isLocal(opts) && !a.core.Closed() {
		if wp, err := packetFromSocket(p); err != nil {
			a.core.BroadcastFailed(err)
		} else if a.takesOffset(p, opts) {
			a.publishWithOffset(p, wp, optionsFromSocket(opts))
		} else {
			a.core.PublishBroadcast(wp, optionsFromSocket(opts))
		}
	}
	a.deliver(p, opts)
}

// BroadcastWithAck delivers a broadcast that expects acknowledgements to the
// local sockets, publishes it to the other servers and returns once every
// server reported its client count and every client acknowledged, or when
// the flags' timeout expired. Blocking keeps socket.io's BroadcastOperator
// free of data races; its callback is then called on the caller's
// goroutine. The local sockets do not wait for Redis: when the servers
// cannot be counted in time, the broadcast is still published and the
// operator gets, at its timeout, the acknowledgements that arrived with
// socket.io's timeout error.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, countCb func(uint64), ack socket.Ack) {
	opts = withNonNilSets(opts)
	var timeout time.Duration
	if opts.Flags != nil && opts.Flags.Timeout != nil {
		timeout = *opts.Flags.Timeout
	}
	wo := optionsFromSocket(opts)
	wp, err := packetFromSocket(p) // before local delivery reads (and drains) the data
	if err != nil {
		a.core.BroadcastFailed(err)
		wo.Flags.Local = true
	}
	a.core.BroadcastWithAck(wp, wo, timeout, func(count func(uint64), ack func([]any, error)) {
		// Local delivery sets the packet's ack id and namespace: give it a
		// copy, so that what is published is what the caller passed.
		local := *p
		a.deliverWithAck(&local, opts, count, ack)
	}, countCb, ack)
}

// FetchSockets returns the matching sockets of every server. The callback is
// called before the returned function returns. When a server does not answer
// within the requests timeout (or the flags' timeout, if set), the callback
// gets the sockets collected so far together with an error wrapping
// ErrTimeout.
func (a *Adapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return func(cb func([]socket.SocketDetails, error)) {
		var flag *time.Duration
		if opts != nil && opts.Flags != nil {
			flag = opts.Flags.Timeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), a.core.CallTimeout(flag))
		defer cancel()
		cb(a.fetchSockets(ctx, opts))
	}
}

// fetchSockets returns the local sockets matching opts, then the other
// servers' unless opts is local or the adapter closed.
func (a *Adapter) fetchSockets(ctx context.Context, opts *socket.BroadcastOptions) ([]socket.SocketDetails, error) {
	opts = withNonNilSets(opts)
	var out []socket.SocketDetails
	a.Adapter.FetchSockets(opts)(func(s []socket.SocketDetails, _ error) { out = s })
	if isLocal(opts) || a.core.Closed() {
		return out, nil
	}
	remote, err := a.core.FetchSockets(ctx, optionsFromSocket(opts))
	for _, s := range remote {
		out = append(out, remoteDetails(s))
	}
	return out, err
}

// AllRooms returns the rooms of every server of the cluster, socket-id rooms
// included, like Node's adapter.allRooms(). On timeout it returns the rooms
// collected so far with an error wrapping ErrTimeout. The sharded protocol
// has no such request: there it returns the local rooms and an error
// wrapping ErrNotSupported.
func (a *Adapter) AllRooms(ctx context.Context) (*types.Set[socket.Room], error) {
	rooms := types.NewSet[socket.Room]()
	a.Rooms().Range(func(r socket.Room, _ *types.Set[socket.SocketId]) bool {
		rooms.Add(r)
		return true
	})
	ctx, cancel := a.core.Bounded(ctx)
	defer cancel()
	remote, err := a.core.AllRooms(ctx)
	for _, r := range remote {
		rooms.Add(socket.Room(r))
	}
	return rooms, err
}

// The socket operations publish before they apply their local part: the
// local part can close the adapter (disconnecting the last socket of a
// dynamic namespace removes it), after which nothing is published.

// AddSockets makes the matching sockets of every server join rooms.
func (a *Adapter) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	opts = withNonNilSets(opts)
	if !isLocal(opts) {
		a.core.PublishSocketsOp(core.KindSocketsJoin, optionsFromSocket(opts), roomStrings(rooms), false)
	}
	a.Adapter.AddSockets(opts, rooms)
}

// DelSockets makes the matching sockets of every server leave rooms.
func (a *Adapter) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	opts = withNonNilSets(opts)
	if !isLocal(opts) {
		a.core.PublishSocketsOp(core.KindSocketsLeave, optionsFromSocket(opts), roomStrings(rooms), false)
	}
	a.Adapter.DelSockets(opts, rooms)
}

// DisconnectSockets disconnects the matching sockets of every server.
func (a *Adapter) DisconnectSockets(opts *socket.BroadcastOptions, close bool) {
	opts = withNonNilSets(opts)
	if !isLocal(opts) {
		a.core.PublishSocketsOp(core.KindDisconnectSockets, optionsFromSocket(opts), nil, close)
	}
	a.Adapter.DisconnectSockets(opts, close)
}

// ServerSideEmit sends an event to the other servers of the cluster. When
// the last element of packet is a socket.Ack, it waits (at most the requests
// timeout) for one answer per other server and calls the ack with one value
// per server before returning; on timeout the ack gets the answers so far and
// an error wrapping ErrTimeout. Publishing errors are returned (and given to
// the ack).
func (a *Adapter) ServerSideEmit(packet []any) error {
	if len(packet) == 0 {
		return fmt.Errorf("sioredis: serverSideEmit: no event name")
	}
	ack, withAck := packet[len(packet)-1].(socket.Ack)
	if !withAck {
		if f, ok := packet[len(packet)-1].(func([]any, error)); ok {
			ack, withAck = f, true
		}
	}
	data := packet
	if withAck {
		data = packet[:len(packet)-1]
	}
	w, err := toWire(data)
	wd, _ := w.([]any)
	return a.core.EmitServerSide(wd, err, ack)
}
