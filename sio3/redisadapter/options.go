package redisadapter

import (
	"log/slog"
	"time"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/core"
)

// Option configures an adapter built by [New] or [NewSharded].
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

// WithKey sets the channel prefix (Node: key for the classic adapter,
// channelPrefix for the sharded one). Default "socket.io". Every server and
// emitter of one cluster must use the same prefix.
func WithKey(prefix string) Option {
	return func(c *core.Config) {
		if prefix != "" {
			c.Key = prefix
		}
	}
}

// WithRequestsTimeout bounds every cross-server request: fetchSockets,
// allRooms, serverSideEmit with ack, and the start-up subscription. Default
// 5 s, as in Node. Values <= 0 keep the default.
func WithRequestsTimeout(d time.Duration) Option {
	return func(c *core.Config) {
		if d > 0 {
			c.RequestsTimeout = d
		}
	}
}

// WithPublishOnSpecificResponseChannel makes the classic adapter answer
// requests on the requester's own response channel P-response#N#<uid>#
// instead of the shared P-response#N#. Default false, as in Node. Requesters
// always listen on both, so the option can differ between servers.
func WithPublishOnSpecificResponseChannel(on bool) Option {
	return func(c *core.Config) { c.PublishOnSpecificResponseChannel = on }
}

// WithLogger sets the logger. Default slog.Default(). Hostile or broken
// input is logged at Warn the first time per kind, then at Debug.
func WithLogger(l *slog.Logger) Option {
	return func(c *core.Config) {
		if l != nil {
			c.Logger = l
		}
	}
}

// WithSubscriptionMode sets the sharded adapter's subscription mode.
// Default [DynamicMode]. Ignored by the classic adapter.
func WithSubscriptionMode(m SubscriptionMode) Option {
	return func(c *core.Config) {
		if m.Valid() {
			c.SubscriptionMode = m
		}
	}
}

// WithInboxSize bounds the queue of received messages waiting to be applied
// to one namespace. When a namespace cannot keep up, further messages are
// dropped and counted in Stats.Dropped instead of growing memory without
// bound. Default 65536, enough for bursts of tens of thousands of
// broadcasts; memory is bounded by this count times the message size.
func WithInboxSize(n int) Option {
	return func(c *core.Config) {
		if n > 0 {
			c.InboxSize = n
		}
	}
}

// WithPublishQueueSize bounds the queue of messages waiting to be
// published. Broadcasts are published asynchronously (as in Node, which does
// not await PUBLISH); when Redis is slower than the emitters, broadcasts
// beyond this bound are dropped and counted in Stats.PublishDropped. Default
// 8192.
func WithPublishQueueSize(n int) Option {
	return func(c *core.Config) {
		if n > 0 {
			c.PublishQueueSize = n
		}
	}
}

// WithHealthCheckInterval sets how often each subscriber connection proves
// that Redis still answers: it sends a PING every interval and drops and
// redials the connection when the reply has not arrived half an interval
// later. A Redis that stops answering (a frozen host, a silent network
// partition) is therefore detected within 2 x interval; Healthy() turns false
// and Stats.HealthCheckFailures counts it. The same tick re-checks refused
// subscriptions and, with a Sentinel failover client, where the master is.
// Default 5 s. Values <= 0 keep the default.
func WithHealthCheckInterval(d time.Duration) Option {
	return func(c *core.Config) {
		if d > 0 {
			c.HealthCheckInterval = d
		}
	}
}

// WithHeartbeatInterval sets how often the server announces itself to the
// other Go servers of each namespace (Node's heartbeatInterval). Default
// 5 s. Values <= 0 keep the default. See the README's Membership section.
func WithHeartbeatInterval(d time.Duration) Option {
	return func(c *core.Config) {
		if d > 0 {
			c.HeartbeatInterval = d
		}
	}
}

// WithHeartbeatTimeout sets how long another Go server may stay unheard
// before it is declared dead (Node's heartbeatTimeout): requests in flight
// stop waiting for it and new ones do not expect it. Default 10 s. Values
// <= 0 keep the default. Keep it above two intervals.
func WithHeartbeatTimeout(d time.Duration) Option {
	return func(c *core.Config) {
		if d > 0 {
			c.HeartbeatTimeout = d
		}
	}
}

// WithMemberListener sets a function told about every join and departure
// of another Go server (one event per server and namespace), in order, on
// a goroutine of its own per namespace. It must not block for long: events
// queue behind it.
func WithMemberListener(f func(MemberEvent)) Option {
	return func(c *core.Config) { c.MemberListener = f }
}
