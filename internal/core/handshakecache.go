package core

import (
	"sync"

	"github.com/sioredis/sioredis/internal/protocol"
)

// PublishedHandshake is what fetchSockets answers carry of one local
// socket's handshake, and its encoding.
type PublishedHandshake struct {
	HS  *protocol.Handshake
	Enc *protocol.EncodedHandshake
}

// PublishHandshake returns what fetchSockets answers carry of local socket
// id's handshake full (wire form): nothing but the connection's facts with
// WithoutHandshakes, else the handshake through the filter (credentials
// redacted by default); a handshake still over MaxHandshakeBytes once
// encoded is replaced by the connection's facts too, counted and logged.
func (a *Adapter) PublishHandshake(id string, full *protocol.Handshake) PublishedHandshake {
	cfg := a.cfg()
	var p PublishedHandshake
	if cfg.WithoutHandshakes {
		p.HS = bareHandshake(full)
	} else {
		p.HS = FilterHandshake(full, cfg.HandshakeFilter)
	}
	// An encoding error is left to the answer's encoder, which reports it.
	p.Enc, _ = protocol.EncodeHandshake(p.HS)
	if limit := cfg.MaxHandshakeBytes; limit > 0 && p.Enc != nil && p.Enc.Len() > limit {
		a.HandshakeTrimmed(id, p.Enc.Len())
		p.HS = bareHandshake(full)
		p.Enc, _ = protocol.EncodeHandshake(p.HS)
	}
	return p
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

// HandshakeCache keeps the published handshake of the local sockets that
// were part of a fetchSockets answer, by socket id (ID); Src is the
// binding's pointer to the socket's own handshake. A handshake never
// changes after the connection, and encoding it (lower-casing and sorting
// the headers) was most of the cost of an answer. An entry lives as long
// as its socket: the binding forgets it when the socket leaves all its
// rooms (disconnection) or its own id room, and Get never keeps one for a
// socket that already left. The zero value is empty and ready.
type HandshakeCache[ID, Src comparable] struct {
	mu sync.Mutex
	m  map[ID]cachedHandshake[Src]
}

type cachedHandshake[Src comparable] struct {
	src Src // the socket's own handshake: a reused id is a miss
	PublishedHandshake
}

// Get returns the published handshake of socket id, whose own handshake is
// src: the cached one, or publish's, kept unless live says the socket left
// in the meantime (its Forget may have run before the entry existed).
func (c *HandshakeCache[ID, Src]) Get(id ID, src Src, publish func() PublishedHandshake, live func() bool) PublishedHandshake {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok && e.src == src {
		return e.PublishedHandshake
	}
	e := cachedHandshake[Src]{src: src, PublishedHandshake: publish()}
	if c.m == nil {
		c.m = make(map[ID]cachedHandshake[Src])
	}
	c.m[id] = e
	if !live() {
		delete(c.m, id)
	}
	return e.PublishedHandshake
}

// Forget drops the cached handshake of a socket.
func (c *HandshakeCache[ID, Src]) Forget(id ID) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// Clear drops every entry (the adapter closed).
func (c *HandshakeCache[ID, Src]) Clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// Len is the number of cached handshakes (tests).
func (c *HandshakeCache[ID, Src]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
