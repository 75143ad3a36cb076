package redisadapter

import (
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// publishedHandshake is what fetchSockets answers carry of d's handshake,
// as in the v2 binding: the connection's facts only with
// WithoutHandshakes, else the handshake with its credentials headers
// redacted; a handshake still over MaxHandshakeBytes once encoded is
// replaced by the connection's facts too, counted and logged.
func (a *Adapter) publishedHandshake(d socket.SocketDetails) cachedHandshake {
	e := cachedHandshake{src: d.Handshake()}
	full := handshakeOf(d) // a fresh value: its maps are its own
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

// bareHandshake keeps of hs what the server, not the client, chose.
func bareHandshake(hs *protocol.Handshake) *protocol.Handshake {
	b := &protocol.Handshake{Headers: map[string][]string{}, Query: map[string][]string{}, Auth: map[string]any{}}
	if hs != nil {
		b.Time, b.Address, b.Xdomain, b.Secure, b.Issued = hs.Time, hs.Address, hs.Xdomain, hs.Secure, hs.Issued
	}
	return b
}
