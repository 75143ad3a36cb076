package core

import (
	"log/slog"
	"time"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/protocol"
)

// Config is what a binding's options set. Its zero value is not usable:
// start from [DefaultConfig].
type Config struct {
	// Key is the channel prefix.
	Key string
	// RequestsTimeout bounds every cross-server request.
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel makes the classic format answer on
	// the requester's own response channel.
	PublishOnSpecificResponseChannel bool
	// Logger receives the adapter's log lines.
	Logger *slog.Logger
	// SubscriptionMode is the sharded format's channel choice.
	SubscriptionMode protocol.SubscriptionMode
	// InboxSize bounds the received messages waiting for one namespace.
	InboxSize int
	// InboxBytes bounds their payload bytes (<= 0: no byte budget).
	InboxBytes int
	// PublishQueueSize bounds the messages waiting to be published.
	PublishQueueSize int
	// PublishQueueBytes bounds their payload bytes (<= 0: no byte budget).
	PublishQueueBytes int
	// HealthCheckInterval is how often each subscriber connection proves
	// that Redis answers (a PING whose reply, or any message while the
	// reply waits behind a backlog, must come within half of it).
	HealthCheckInterval time.Duration

	// MaxAnswerBytes bounds one encoded fetchSockets answer (<= 0: no
	// bound); see DefaultMaxAnswerBytes.
	MaxAnswerBytes int
	// MaxHandshakeBytes bounds one socket's encoded handshake in a
	// fetchSockets answer (<= 0: no bound); the binding applies it.
	MaxHandshakeBytes int
	// WithoutHandshakes makes the binding describe its sockets without
	// handshakes (ids, rooms and data only).
	WithoutHandshakes bool
	// RoomFilter, when set, tells which rooms get a channel of their own in
	// the sharded dynamic modes (see shardedWire.roomAllowed).
	RoomFilter func(room string) bool
	// HandshakeFilter, when set, edits (a copy of) each handshake before
	// it is published; the binding's default redacts credentials.
	HandshakeFilter func(*protocol.Handshake)

	// HeartbeatInterval is how often a server announces itself to the
	// others of each namespace.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a server may stay unheard before it is
	// declared dead.
	HeartbeatTimeout time.Duration
	// MemberListener, if set, is told about joins and departures, on a
	// goroutine of its own per namespace; it must not block for long.
	MemberListener func(sioredis.MemberEvent)
	// Capabilities, if not nil, restricts the request kinds this server
	// answers and announces (capability names, see [Capabilities]); tests
	// use it to play an older server.
	Capabilities []string
	// Observer receives the adapter's events for metrics (nil: none).
	Observer sioredis.Observer
	// Streams configures the streams format.
	Streams StreamsConfig
}

// StreamsConfig is the streams format's part of the configuration, with
// the option names of Node's @socket.io/redis-streams-adapter 0.3.1.
type StreamsConfig struct {
	// StreamName is the stream key (streamName), or its prefix when
	// StreamCount > 1.
	StreamName string
	// StreamCount spreads the namespaces over this many streams
	// (streamCount).
	StreamCount int
	// MaxLen trims the stream with XADD MAXLEN ~ (maxLen).
	MaxLen int64
	// ReadCount is the XREAD COUNT (readCount).
	ReadCount int64
	// BlockTime is the XREAD BLOCK (blockTimeInMs).
	BlockTime time.Duration
	// SessionKeyPrefix prefixes the keys of stored sessions
	// (sessionKeyPrefix).
	SessionKeyPrefix string
	// OnlyPlaintext writes stream entries as JSON even with binary
	// (onlyPlaintext).
	OnlyPlaintext bool
	// MaxReplay bounds the missed packets one restore collects; a session
	// that missed more connects fresh.
	MaxReplay int
	// MaxDisconnection is the session TTL when socket.io's
	// maxDisconnectionDuration is 0 (zishang520 leaves it 0 with a custom
	// adapter; Node's default is 2 minutes).
	MaxDisconnection time.Duration
}

// Default byte budgets of the queues: with the count bounds alone, ten
// 15 MiB messages held 184 MiB in an inbox, and a stalled Redis let the
// publish queue hold gigabytes.
const (
	DefaultInboxBytes        = 64 << 20
	DefaultPublishQueueBytes = 64 << 20
)

// DefaultConfig returns the defaults, Node's where Node has the option.
func DefaultConfig() Config {
	return Config{
		Key:              protocol.DefaultPrefix,
		RequestsTimeout:  5 * time.Second,
		Logger:           slog.Default(),
		SubscriptionMode: protocol.DynamicMode,
		InboxSize:        65536,
		PublishQueueSize: 8192,

		HealthCheckInterval: 5 * time.Second,
		Streams: StreamsConfig{
			StreamName:       protocol.DefaultStreamName,
			StreamCount:      protocol.DefaultStreamCount,
			MaxLen:           protocol.DefaultStreamMaxLen,
			ReadCount:        protocol.DefaultStreamReadCount,
			BlockTime:        protocol.DefaultBlockTimeInMs * time.Millisecond,
			SessionKeyPrefix: protocol.DefaultSessionKeyPrefix,
			MaxReplay:        protocol.DefaultStreamMaxLen,
			MaxDisconnection: 2 * time.Minute,
		},
		HeartbeatInterval: 5 * time.Second,
		HeartbeatTimeout:  10 * time.Second,

		// Answers go to the requester only (Node's requesters listen on
		// their own response channel too), not to every server.
		PublishOnSpecificResponseChannel: true,
		MaxAnswerBytes:                   DefaultMaxAnswerBytes,
		InboxBytes:                       DefaultInboxBytes,
		PublishQueueBytes:                DefaultPublishQueueBytes,
		MaxHandshakeBytes:                DefaultMaxHandshakeBytes,
		HandshakeFilter:                  RedactCredentials,
	}
}
