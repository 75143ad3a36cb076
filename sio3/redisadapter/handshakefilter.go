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
		e.hs = full
		if f := a.cfg.HandshakeFilter; f != nil && full != nil {
			f(full)
		}
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

// WithMaxHandshakeBytes bounds the encoded handshake of one socket in a
// fetchSockets answer (see the v2 binding's option). Default 64 KiB.
func WithMaxHandshakeBytes(n int) Option {
	return func(c *core.Config) {
		if n > 0 {
			c.MaxHandshakeBytes = n
		}
	}
}

// WithoutHandshakes makes this server describe its sockets in fetchSockets
// answers without their handshake's headers, query, URL and auth.
func WithoutHandshakes() Option {
	return func(c *core.Config) { c.WithoutHandshakes = true }
}

// WithoutCredentialRedaction publishes the Cookie, Authorization and
// Proxy-Authorization headers of handshakes as they are (by default their
// values are replaced with "[redacted]"). Whoever can read the Redis
// channels then sees them.
func WithoutCredentialRedaction() Option {
	return func(c *core.Config) { c.HandshakeFilter = nil }
}

// WithMaxAnswerBytes bounds one encoded fetchSockets answer of this server
// (see the v2 binding's option). Default 8 MiB.
func WithMaxAnswerBytes(n int) Option {
	return func(c *core.Config) {
		if n > 0 {
			c.MaxAnswerBytes = n
		}
	}
}

// WithInboxBytes bounds the payload bytes waiting for one namespace.
// Default 64 MiB.
func WithInboxBytes(n int) Option {
	return func(c *core.Config) {
		if n > 0 {
			c.InboxBytes = n
		}
	}
}

// WithPublishQueueBytes bounds the payload bytes waiting to be published.
// Default 64 MiB.
func WithPublishQueueBytes(n int) Option {
	return func(c *core.Config) {
		if n > 0 {
			c.PublishQueueBytes = n
		}
	}
}

// WithRoomFilter limits the room channels of the sharded dynamic modes
// (see the v2 binding's option).
func WithRoomFilter(f func(room string) bool) Option {
	return func(c *core.Config) { c.RoomFilter = f }
}
