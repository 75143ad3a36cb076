package redisadapter

import (
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// handshakeCache keeps the published handshakes of the local sockets that
// were part of a fetchSockets answer (see core.HandshakeCache); the
// socket's own handshake tells a reused id.
type handshakeCache = core.HandshakeCache[socket.SocketId, *socket.Handshake]

// describe turns local sockets into the SocketInfos of a fetchSockets
// answer, publishing the handshakes it has not seen yet.
func (a *Adapter) describe(local []socket.SocketDetails) []protocol.SocketInfo {
	infos := make([]protocol.SocketInfo, len(local))
	for i, d := range local {
		id := d.Id()
		p := a.handshakes.Get(id, d.Handshake(),
			func() core.PublishedHandshake { return a.core.PublishHandshake(string(id), handshakeOf(d)) },
			func() bool { _, live := a.Sids().Load(id); return live })
		infos[i] = socketInfoWithHandshake(d, p.HS, p.Enc)
	}
	return infos
}

// DelAll removes a socket from all its rooms (socket.io calls it when the
// socket disconnects, or when a restored socket is refused) and forgets its
// cached handshake.
func (a *Adapter) DelAll(id socket.SocketId) {
	a.Adapter.DelAll(id)
	a.handshakes.Forget(id)
	a.restoreAbandoned(id)
}

// Del removes a socket from a room; leaving its own id room also forgets
// its cached handshake.
func (a *Adapter) Del(id socket.SocketId, room socket.Room) {
	a.Adapter.Del(id, room)
	if room == socket.Room(id) {
		a.handshakes.Forget(id)
	}
}
