package redisadapter

import (
	"sync"

	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// handshakeCache keeps the encoded handshake of the local sockets that were
// part of a fetchSockets answer. A handshake never changes after the
// connection, and encoding it (lower-casing and sorting the headers) was
// most of the cost of an answer. An entry lives as long as its socket: it
// is dropped when the socket leaves all its rooms (disconnection) or its
// own id room, and never added for a socket that already left.
type handshakeCache struct {
	mu sync.Mutex
	m  map[socket.SocketId]cachedHandshake
}

type cachedHandshake struct {
	src *socket.Handshake   // the socket's own handshake: a reused id is a miss
	hs  *protocol.Handshake // src with the Host header (handshakeOf)
	enc *protocol.EncodedHandshake
}

// describe turns local sockets into the SocketInfos of a fetchSockets
// answer, encoding the handshakes it has not seen yet.
func (a *Adapter) describe(local []socket.SocketDetails) []protocol.SocketInfo {
	infos := make([]protocol.SocketInfo, len(local))
	c := &a.handshakes
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[socket.SocketId]cachedHandshake, len(local))
	}
	for i, d := range local {
		id, src := d.Id(), d.Handshake()
		e, ok := c.m[id]
		if !ok || e.src != src {
			e = a.publishedHandshake(d)
			c.m[id] = e
			// Drop it again if the socket left in the meantime: its forget
			// may have run before the entry existed.
			if _, live := a.Sids().Load(id); !live {
				delete(c.m, id)
			}
		}
		infos[i] = socketInfoWithHandshake(d, e.hs, e.enc)
	}
	return infos
}

// publishedHandshake is what fetchSockets answers carry of d's handshake:
// nothing but the connection's facts with WithoutHandshakes, else the
// handshake through the filter (credentials redacted by default); a
// handshake still over MaxHandshakeBytes once encoded is replaced by the
// connection's facts too, counted and logged.
func (a *Adapter) publishedHandshake(d socket.SocketDetails) cachedHandshake {
	e := cachedHandshake{src: d.Handshake()}
	full := handshakeOf(d)
	if a.cfg.WithoutHandshakes {
		e.hs = bareHandshake(full)
	} else {
		e.hs = core.FilterHandshake(full, a.cfg.HandshakeFilter)
	}
	// An encoding error is left to the answer's encoder, which reports it.
	e.enc, _ = protocol.EncodeHandshake(e.hs)
	if limit := a.cfg.MaxHandshakeBytes; limit > 0 && e.enc != nil && e.enc.Len() > limit {
		a.core.HandshakeTrimmed(string(d.Id()), e.enc.Len())
		e.hs = bareHandshake(full)
		e.enc, _ = protocol.EncodeHandshake(e.hs)
	}
	return e
}

// bareHandshake keeps of hs what the server, not the client, chose: the
// time, address and security flags; headers, query, URL and auth are left
// out.
func bareHandshake(hs *protocol.Handshake) *protocol.Handshake {
	b := &protocol.Handshake{Headers: map[string][]string{}, Query: map[string][]string{}, Auth: map[string]any{}}
	if hs != nil {
		b.Time, b.Address, b.Xdomain, b.Secure, b.Issued = hs.Time, hs.Address, hs.Xdomain, hs.Secure, hs.Issued
	}
	return b
}

// forget drops the cached handshake of a socket.
func (c *handshakeCache) forget(id socket.SocketId) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// clear drops every entry (the adapter closed).
func (c *handshakeCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// cached is the number of cached handshakes (tests).
func (c *handshakeCache) cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// DelAll removes a socket from all its rooms (socket.io calls it when the
// socket disconnects) and forgets its cached handshake.
func (a *Adapter) DelAll(id socket.SocketId) {
	a.Adapter.DelAll(id)
	a.handshakes.forget(id)
}

// Del removes a socket from a room; leaving its own id room also forgets
// its cached handshake.
func (a *Adapter) Del(id socket.SocketId, room socket.Room) {
	a.Adapter.Del(id, room)
	if room == socket.Room(id) {
		a.handshakes.forget(id)
	}
}
