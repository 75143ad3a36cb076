package redisadapter

import (
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// local is what the core sees of a namespace's own sockets (core.Local):
// the operations of other servers applied through socket.io v3.0.6's
// in-memory adapter and this package's delivery.
type local struct{ a *Adapter }

var _ core.Local = local{}

func (l local) Broadcast(p protocol.Packet, opts protocol.Options) {
	l.a.deliver(socketPacket(p, l.a.name), socketOptions(opts))
}

func (l local) BroadcastWithAck(p protocol.Packet, opts protocol.Options, count func(uint64), ack func(any)) {
	id, sockets := l.a.deliverWithAck(socketPacket(p, l.a.name), socketOptions(opts), count, func(args []any, err error) {
		if err == nil {
			ack(ackValue(args))
		}
	})
	l.a.expireAcks(id, sockets, l.a.core.AckExpiry(opts.Flags.Timeout))
}

func (l local) Sockets(opts protocol.Options) []protocol.SocketInfo {
	var sockets []socket.SocketDetails
	l.a.Adapter.FetchSockets(socketOptions(opts))(func(s []socket.SocketDetails, _ error) { sockets = s })
	return l.a.describe(sockets)
}

func (l local) Rooms() []string {
	rooms := []string{}
	l.a.Adapter.Rooms().Range(func(room socket.Room, _ *types.Set[socket.SocketId]) bool {
		rooms = append(rooms, string(room))
		return true
	})
	return rooms
}

func (l local) HasRoom(room string) bool {
	_, ok := l.a.Adapter.Rooms().Load(socket.Room(room))
	return ok
}

func (l local) HasSocket(id string) bool {
	_, ok := l.a.Sids().Load(socket.SocketId(id))
	return ok
}

func (l local) SocketsJoin(opts protocol.Options, rooms []string) {
	l.a.Adapter.AddSockets(socketOptions(opts), toRooms(rooms))
}

func (l local) SocketsLeave(opts protocol.Options, rooms []string) {
	l.a.Adapter.DelSockets(socketOptions(opts), toRooms(rooms))
}

func (l local) DisconnectSockets(opts protocol.Options, close bool) {
	l.a.Adapter.DisconnectSockets(socketOptions(opts), close)
}

func (l local) SocketOp(kind core.Kind, sid, room string, close bool) bool {
	s, ok := l.a.Nsp().Sockets().Load(socket.SocketId(sid))
	if !ok {
		return false
	}
	switch kind {
	case core.KindSocketsJoin:
		s.Join(socket.Room(room))
	case core.KindSocketsLeave:
		s.Leave(socket.Room(room))
	default:
		s.Disconnect(close)
	}
	return true
}

func (l local) ServerSideEmit(data []any, reply func(any)) {
	if reply == nil {
		l.a.Nsp().OnServerSideEmit(data)
		return
	}
	l.a.Nsp().OnServerSideEmit(append(data, socket.Ack(func(args []any, _ error) { reply(ackValue(args)) })))
}

func toRooms(s []string) []socket.Room {
	out := make([]socket.Room, len(s))
	for i, r := range s {
		out[i] = socket.Room(r)
	}
	return out
}
