package redisadapter

import (
	"log/slog"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// The options are the v2 binding's (github.com/sioredis/sioredis/redisadapter),
// applied by the same core: their full documentation is there.

// Option configures an adapter built by [New], [NewSharded] or [NewStreams].
type Option func(*core.Config)

// SubscriptionMode selects which channels the sharded adapter subscribes to
// (Node's subscriptionMode): [sioredis.SubscriptionMode], shared with the
// emitter.
type SubscriptionMode = sioredis.SubscriptionMode

const (
	// StaticMode subscribes only to the namespace channel and the node's
	// private channel; every broadcast goes through the namespace channel.
	StaticMode = sioredis.StaticMode
	// DynamicMode (the default) also subscribes to one channel per public
	// room present on the node, so single-room broadcasts only reach the
	// nodes that have members of the room. Socket-id rooms get no channel,
	// except Go socket ids (see the package documentation).
	DynamicMode = sioredis.DynamicMode
	// DynamicPrivateMode is DynamicMode with a channel for every room,
	// socket-id rooms included.
	DynamicPrivateMode = sioredis.DynamicPrivateMode
)

// WithKey sets the channel prefix shared by every server and emitter of
// the cluster. Default "socket.io". See
// [github.com/sioredis/sioredis/redisadapter.WithKey].
func WithKey(prefix string) Option { return core.WithKey(prefix) }

// WithRequestsTimeout bounds every cross-server request. Default 5 s. See
// [github.com/sioredis/sioredis/redisadapter.WithRequestsTimeout].
func WithRequestsTimeout(d time.Duration) Option { return core.WithRequestsTimeout(d) }

// WithPublishOnSpecificResponseChannel makes the classic adapter answer
// requests on the requester's own response channel. Default true (Node's
// default is false). See
// [github.com/sioredis/sioredis/redisadapter.WithPublishOnSpecificResponseChannel].
func WithPublishOnSpecificResponseChannel(on bool) Option {
	return core.WithPublishOnSpecificResponseChannel(on)
}

// WithLogger sets the logger. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return core.WithLogger(l) }

// WithSubscriptionMode sets the sharded adapter's subscription mode.
// Default [DynamicMode]. Ignored by the classic adapter.
func WithSubscriptionMode(m SubscriptionMode) Option { return core.WithSubscriptionMode(m) }

// WithInboxSize bounds the count of received messages waiting for one
// namespace. Default 65536. See
// [github.com/sioredis/sioredis/redisadapter.WithInboxSize].
func WithInboxSize(n int) Option { return core.WithInboxSize(n) }

// WithInboxBytes bounds the payload bytes waiting for one namespace.
// Default 64 MiB. See
// [github.com/sioredis/sioredis/redisadapter.WithInboxBytes].
func WithInboxBytes(n int) Option { return core.WithInboxBytes(n) }

// WithPublishQueueSize bounds the count of messages waiting to be
// published. Default 8192. See
// [github.com/sioredis/sioredis/redisadapter.WithPublishQueueSize].
func WithPublishQueueSize(n int) Option { return core.WithPublishQueueSize(n) }

// WithPublishQueueBytes bounds the payload bytes waiting to be published.
// Default 64 MiB. See
// [github.com/sioredis/sioredis/redisadapter.WithPublishQueueBytes].
func WithPublishQueueBytes(n int) Option { return core.WithPublishQueueBytes(n) }

// WithHealthCheckInterval sets how often each subscriber connection proves
// that Redis still answers. Default 5 s. See
// [github.com/sioredis/sioredis/redisadapter.WithHealthCheckInterval].
func WithHealthCheckInterval(d time.Duration) Option { return core.WithHealthCheckInterval(d) }

// WithObserver installs an observer of the adapter's events, for metrics
// (sioredisprom, sioredisotel). Default: none. See
// [github.com/sioredis/sioredis/redisadapter.WithObserver].
func WithObserver(obs sioredis.Observer) Option { return core.WithObserver(obs) }

// WithHeartbeatInterval sets how often the server announces itself to the
// other Go servers of each namespace. Default 5 s.
func WithHeartbeatInterval(d time.Duration) Option { return core.WithHeartbeatInterval(d) }

// WithHeartbeatTimeout sets how long another Go server may stay unheard
// before it is declared dead. Default 10 s. Keep it above two intervals.
func WithHeartbeatTimeout(d time.Duration) Option { return core.WithHeartbeatTimeout(d) }

// WithMemberListener sets a function told about every join and departure
// of another Go server, in order, on a goroutine of its own per namespace.
// It must not block for long.
func WithMemberListener(f func(MemberEvent)) Option { return core.WithMemberListener(f) }

// WithMaxAnswerBytes bounds one encoded fetchSockets answer of this server.
// Default 8 MiB. See
// [github.com/sioredis/sioredis/redisadapter.WithMaxAnswerBytes].
func WithMaxAnswerBytes(n int) Option { return core.WithMaxAnswerBytes(n) }

// WithMaxHandshakeBytes bounds the encoded handshake of one socket in a
// fetchSockets answer. Default 64 KiB. See
// [github.com/sioredis/sioredis/redisadapter.WithMaxHandshakeBytes].
func WithMaxHandshakeBytes(n int) Option { return core.WithMaxHandshakeBytes(n) }

// WithoutHandshakes makes this server describe its sockets in fetchSockets
// answers without their handshake's headers, query, URL and auth.
func WithoutHandshakes() Option { return core.WithoutHandshakes() }

// WithHandshakeFilter sets what this server publishes of each socket's
// handshake in fetchSockets answers: f edits a copy once per socket. It
// replaces the default, [RedactCredentials]; call that from f to keep it.
// See [github.com/sioredis/sioredis/redisadapter.WithHandshakeFilter].
func WithHandshakeFilter(f func(h *socket.Handshake)) Option {
	if f == nil {
		return core.WithHandshakeFilter(nil)
	}
	return core.WithHandshakeFilter(func(h *protocol.Handshake) {
		sh := socketHandshake(h)
		f(sh)
		*h = *wireHandshake(sh)
	})
}

// RedactCredentials is the default handshake filter: it replaces the
// values of the Cookie, Authorization and Proxy-Authorization headers with
// "[redacted]". Query parameters and the auth payload are kept.
func RedactCredentials(h *socket.Handshake) {
	for k := range h.Headers {
		if core.IsCredentialHeader(k) {
			h.Headers[k] = []string{core.Redacted}
		}
	}
}

// WithoutCredentialRedaction publishes the Cookie, Authorization and
// Proxy-Authorization headers of handshakes as they are (by default their
// values are replaced with "[redacted]"). Whoever can read the Redis
// channels then sees them.
func WithoutCredentialRedaction() Option { return core.WithHandshakeFilter(nil) }

// WithRoomFilter limits the room channels of the sharded dynamic modes to
// the rooms f accepts. See
// [github.com/sioredis/sioredis/redisadapter.WithRoomFilter].
func WithRoomFilter(f func(room string) bool) Option { return core.WithRoomFilter(f) }
