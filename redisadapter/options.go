package redisadapter

import (
	"log/slog"
	"time"

	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// The options' validation and defaults are internal/core's (options.go,
// config.go), shared with the v3 binding; their user documentation is here,
// and the v3 binding links to it.

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
func WithKey(prefix string) Option { return core.WithKey(prefix) }

// WithRequestsTimeout bounds every cross-server request: fetchSockets,
// allRooms, serverSideEmit with ack, and the start-up subscription. Default
// 5 s, as in Node. Values <= 0 keep the default.
func WithRequestsTimeout(d time.Duration) Option { return core.WithRequestsTimeout(d) }

// WithPublishOnSpecificResponseChannel makes the classic adapter answer
// requests on the requester's own response channel P-response#N#<uid>#
// instead of the shared P-response#N#. Default true (Node's default is
// false): on the shared channel every server receives every fetchSockets
// answer, so a large answer costs every server, and every subscriber's
// Redis output buffer, its size. Requesters, Go and Node
// (@socket.io/redis-adapter 8.3), always listen on both, so the option can
// differ between servers. serverSideEmit answers use the shared channel in
// every case, as in Node.
func WithPublishOnSpecificResponseChannel(on bool) Option {
	return core.WithPublishOnSpecificResponseChannel(on)
}

// WithLogger sets the logger. Default slog.Default(). Hostile or broken
// input is logged at Warn the first time per kind, then at Debug.
func WithLogger(l *slog.Logger) Option { return core.WithLogger(l) }

// WithSubscriptionMode sets the sharded adapter's subscription mode.
// Default [DynamicMode]. Ignored by the classic adapter.
func WithSubscriptionMode(m SubscriptionMode) Option { return core.WithSubscriptionMode(m) }

// WithInboxSize bounds the queue of received messages waiting to be applied
// to one namespace. When a namespace cannot keep up, further messages are
// dropped and counted in Stats.Dropped instead of growing memory without
// bound. Default 65536, enough for bursts of tens of thousands of
// broadcasts; memory is bounded by this count times the message size.
func WithInboxSize(n int) Option { return core.WithInboxSize(n) }

// WithPublishQueueSize bounds the queue of messages waiting to be
// published. Broadcasts are published asynchronously (as in Node, which does
// not await PUBLISH); when Redis is slower than the emitters, broadcasts
// beyond this bound are dropped and counted in Stats.PublishDropped. Default
// 8192.
func WithPublishQueueSize(n int) Option { return core.WithPublishQueueSize(n) }

// WithHealthCheckInterval sets how often each subscriber connection proves
// that Redis still answers: it sends a PING every interval and drops and
// redials the connection when neither the reply nor any message has arrived
// half an interval later (messages still arriving while the reply waits
// behind a backlog prove the link as well). A Redis that stops answering (a frozen host, a silent network
// partition) is therefore detected within 2 x interval; Healthy() turns false
// and Stats.HealthCheckFailures counts it. The same tick re-checks refused
// subscriptions and, with a Sentinel failover client, where the master is.
// Default 5 s. Values <= 0 keep the default.
func WithHealthCheckInterval(d time.Duration) Option { return core.WithHealthCheckInterval(d) }

// WithObserver installs an observer that receives the adapter's events as
// they happen (messages published, received, dropped and undecodable, with
// their namespace and kind; publish and request latencies; request
// outcomes), for metrics. The Prometheus collector
// (github.com/sioredis/sioredis/extra/sioredisprom) and the OpenTelemetry
// instruments (github.com/sioredis/sioredis/extra/sioredisotel) are
// observers; each is a module of its own, so the library requires neither.
// The builder calls obs.Attach with its Stats when it is created. Default:
// none.
func WithObserver(obs sioredis.Observer) Option { return core.WithObserver(obs) }

// WithHeartbeatInterval sets how often the server announces itself to the
// other Go servers of each namespace (Node's heartbeatInterval). Default
// 5 s. Values <= 0 keep the default. See the README's Membership section.
func WithHeartbeatInterval(d time.Duration) Option { return core.WithHeartbeatInterval(d) }

// WithHeartbeatTimeout sets how long another Go server may stay unheard
// before it is declared dead (Node's heartbeatTimeout): requests in flight
// stop waiting for it and new ones do not expect it. Default 10 s. Values
// <= 0 keep the default. Keep it above two intervals.
func WithHeartbeatTimeout(d time.Duration) Option { return core.WithHeartbeatTimeout(d) }

// WithMemberListener sets a function told about every join and departure
// of another Go server (one event per server and namespace), in order, on
// a goroutine of its own per namespace. It must not block for long: events
// queue behind it.
func WithMemberListener(f func(MemberEvent)) Option { return core.WithMemberListener(f) }

// WithMaxAnswerBytes bounds one encoded fetchSockets answer of this server.
// An answer over the bound is not published: an empty answer marked too
// large goes instead, so the requester gets the other servers' sockets and
// an error wrapping [ErrAnswerTooLarge] (a Node requester sees an empty
// answer), and both servers count it in Stats.AnswersTooLarge and log it.
// Default 8 MiB, under the decoders' 16 MiB limit and Redis' default
// client-output-buffer-limit pubsub (32 MB) that would otherwise disconnect
// subscribers. Values <= 0 keep the default.
func WithMaxAnswerBytes(n int) Option { return core.WithMaxAnswerBytes(n) }

// WithMaxHandshakeBytes bounds the encoded handshake (headers, query,
// auth, which its client chooses) of one socket in a fetchSockets answer.
// A socket over the bound is described without them (id, rooms, data and
// the handshake's time, address and flags), counted in
// Stats.DescriptionsTrimmed and logged. Default 64 KiB. Values <= 0 keep
// the default.
func WithMaxHandshakeBytes(n int) Option { return core.WithMaxHandshakeBytes(n) }

// WithoutHandshakes makes this server describe its sockets in fetchSockets
// answers without their handshake's headers, query, URL and auth: ids,
// rooms and data stay. Use it on servers whose peers fetch sockets to
// count or list them (about 225 bytes per socket in a msgpack answer
// instead of about 715 with a browser's usual headers), or that must not
// publish what clients sent.
// It applies to what this server answers; Node servers answer as they do.
func WithoutHandshakes() Option { return core.WithoutHandshakes() }

// WithHandshakeFilter sets what this server publishes of each socket's
// handshake in fetchSockets answers: f edits a copy (its Headers, Query and
// Auth maps are its own) once per socket. It replaces the default,
// [RedactCredentials]; call that from f to keep it. Whoever can read the
// Redis channels, and every server of the cluster, sees what f leaves.
func WithHandshakeFilter(f func(h *socket.Handshake)) Option {
	if f == nil {
		return core.WithHandshakeFilter(nil)
	}
	return core.WithHandshakeFilter(func(h *protocol.Handshake) { f((*socket.Handshake)(h)) })
}

// RedactCredentials is the default handshake filter: it replaces the
// values of the Cookie, Authorization and Proxy-Authorization headers with
// "[redacted]". Query parameters and the auth payload are kept (clear them
// in a filter of your own if they carry tokens).
func RedactCredentials(h *socket.Handshake) { core.RedactCredentials((*protocol.Handshake)(h)) }

// WithInboxBytes bounds the payload bytes of the received messages waiting
// for one namespace, besides their count ([WithInboxSize]). A message that
// does not fit is dropped before it is copied, counted in Stats.Dropped and
// Stats.InboxBytesDropped, and logged. Messages over 16 MiB, which no
// decoder accepts, are dropped the same way whatever the budget. Default
// 64 MiB. Values <= 0 keep the default.
func WithInboxBytes(n int) Option { return core.WithInboxBytes(n) }

// WithPublishQueueBytes bounds the payload bytes of the messages waiting to
// be published, besides their count ([WithPublishQueueSize]): while Redis
// is slow or stalled, a broadcast that does not fit is dropped and counted
// in Stats.PublishDropped, and a request fails with [ErrQueueFull]. Default
// 64 MiB. Values <= 0 keep the default.
func WithPublishQueueBytes(n int) Option { return core.WithPublishQueueBytes(n) }

// WithRoomFilter limits the room channels of the sharded dynamic modes,
// which otherwise subscribe one channel per local room: a room f refuses
// gets no channel (counted in Stats.RoomsFiltered), and this server
// publishes broadcasts to that room alone on the namespace channel, as in
// StaticMode. Rooms named from user input (a chat room per user-chosen
// name, a room per user id) are the ones to refuse: a client that can make
// a server join arbitrary rooms can otherwise make it hold any number of
// subscriptions on the Redis Cluster. Every server and sharded emitter
// (emitter.WithRoomFilter) must use the same filter, since a publisher
// that does not know it sends to the room channel nobody hears; Node
// servers have no such option. Ignored by the classic adapter and in
// StaticMode.
func WithRoomFilter(f func(room string) bool) Option { return core.WithRoomFilter(f) }
