package core

import (
	"log/slog"
	"time"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/protocol"
)

// The functional options both bindings export. Each binding's Option is a
// named func(*Config) of its own, so that its public API names no internal
// type but the Config it is applied to; its With functions return these,
// which keeps the validation (what keeps the default) in one place. The
// user documentation is the v2 binding's (redisadapter).

// Configure applies opts, in order, to the defaults.
func Configure[O ~func(*Config)](opts []O) Config {
	cfg := DefaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// WithKey sets Config.Key; "" keeps the default.
func WithKey(prefix string) func(*Config) {
	return func(c *Config) {
		if prefix != "" {
			c.Key = prefix
		}
	}
}

// WithRequestsTimeout sets Config.RequestsTimeout; d <= 0 keeps the default.
func WithRequestsTimeout(d time.Duration) func(*Config) {
	return func(c *Config) {
		if d > 0 {
			c.RequestsTimeout = d
		}
	}
}

// WithPublishOnSpecificResponseChannel sets
// Config.PublishOnSpecificResponseChannel.
func WithPublishOnSpecificResponseChannel(on bool) func(*Config) {
	return func(c *Config) { c.PublishOnSpecificResponseChannel = on }
}

// WithLogger sets Config.Logger; nil keeps the default.
func WithLogger(l *slog.Logger) func(*Config) {
	return func(c *Config) {
		if l != nil {
			c.Logger = l
		}
	}
}

// WithSubscriptionMode sets Config.SubscriptionMode; an invalid mode keeps
// the default.
func WithSubscriptionMode(m sioredis.SubscriptionMode) func(*Config) {
	return func(c *Config) {
		if m.Valid() {
			c.SubscriptionMode = m
		}
	}
}

// WithInboxSize sets Config.InboxSize; n <= 0 keeps the default.
func WithInboxSize(n int) func(*Config) {
	return positive(n, func(c *Config) *int { return &c.InboxSize })
}

// WithInboxBytes sets Config.InboxBytes; n <= 0 keeps the default.
func WithInboxBytes(n int) func(*Config) {
	return positive(n, func(c *Config) *int { return &c.InboxBytes })
}

// WithPublishQueueSize sets Config.PublishQueueSize; n <= 0 keeps the
// default.
func WithPublishQueueSize(n int) func(*Config) {
	return positive(n, func(c *Config) *int { return &c.PublishQueueSize })
}

// WithPublishQueueBytes sets Config.PublishQueueBytes; n <= 0 keeps the
// default.
func WithPublishQueueBytes(n int) func(*Config) {
	return positive(n, func(c *Config) *int { return &c.PublishQueueBytes })
}

// WithMaxAnswerBytes sets Config.MaxAnswerBytes; n <= 0 keeps the default.
func WithMaxAnswerBytes(n int) func(*Config) {
	return positive(n, func(c *Config) *int { return &c.MaxAnswerBytes })
}

// WithMaxHandshakeBytes sets Config.MaxHandshakeBytes; n <= 0 keeps the
// default.
func WithMaxHandshakeBytes(n int) func(*Config) {
	return positive(n, func(c *Config) *int { return &c.MaxHandshakeBytes })
}

// WithHealthCheckInterval sets Config.HealthCheckInterval; d <= 0 keeps
// the default.
func WithHealthCheckInterval(d time.Duration) func(*Config) {
	return positive(d, func(c *Config) *time.Duration { return &c.HealthCheckInterval })
}

// WithHeartbeatInterval sets Config.HeartbeatInterval; d <= 0 keeps the
// default.
func WithHeartbeatInterval(d time.Duration) func(*Config) {
	return positive(d, func(c *Config) *time.Duration { return &c.HeartbeatInterval })
}

// WithHeartbeatTimeout sets Config.HeartbeatTimeout; d <= 0 keeps the
// default.
func WithHeartbeatTimeout(d time.Duration) func(*Config) {
	return positive(d, func(c *Config) *time.Duration { return &c.HeartbeatTimeout })
}

// positive sets the field field picks to v when v > 0: a zero or negative
// bound keeps the default rather than disabling the bound.
func positive[T int | int64 | time.Duration](v T, field func(*Config) *T) func(*Config) {
	return func(c *Config) {
		if v > 0 {
			*field(c) = v
		}
	}
}

// WithObserver sets Config.Observer.
func WithObserver(obs sioredis.Observer) func(*Config) {
	return func(c *Config) { c.Observer = obs }
}

// WithMemberListener sets Config.MemberListener.
func WithMemberListener(f func(sioredis.MemberEvent)) func(*Config) {
	return func(c *Config) { c.MemberListener = f }
}

// WithoutHandshakes sets Config.WithoutHandshakes.
func WithoutHandshakes() func(*Config) {
	return func(c *Config) { c.WithoutHandshakes = true }
}

// WithHandshakeFilter sets Config.HandshakeFilter; nil publishes
// handshakes unfiltered.
func WithHandshakeFilter(f func(*protocol.Handshake)) func(*Config) {
	return func(c *Config) { c.HandshakeFilter = f }
}

// WithRoomFilter sets Config.RoomFilter.
func WithRoomFilter(f func(room string) bool) func(*Config) {
	return func(c *Config) { c.RoomFilter = f }
}

// The streams format's options (Config.Streams), Node's
// @socket.io/redis-streams-adapter names.

// WithStreamName sets Streams.StreamName; "" keeps the default.
func WithStreamName(name string) func(*Config) {
	return func(c *Config) {
		if name != "" {
			c.Streams.StreamName = name
		}
	}
}

// WithStreamCount sets Streams.StreamCount; n <= 0 keeps the default.
func WithStreamCount(n int) func(*Config) {
	return positive(n, func(c *Config) *int { return &c.Streams.StreamCount })
}

// WithMaxLen sets Streams.MaxLen; n <= 0 keeps the default.
func WithMaxLen(n int64) func(*Config) {
	return positive(n, func(c *Config) *int64 { return &c.Streams.MaxLen })
}

// WithReadCount sets Streams.ReadCount; n <= 0 keeps the default.
func WithReadCount(n int64) func(*Config) {
	return positive(n, func(c *Config) *int64 { return &c.Streams.ReadCount })
}

// WithBlockTime sets Streams.BlockTime; d <= 0 keeps the default.
func WithBlockTime(d time.Duration) func(*Config) {
	return positive(d, func(c *Config) *time.Duration { return &c.Streams.BlockTime })
}

// WithSessionKeyPrefix sets Streams.SessionKeyPrefix; "" keeps the default.
func WithSessionKeyPrefix(p string) func(*Config) {
	return func(c *Config) {
		if p != "" {
			c.Streams.SessionKeyPrefix = p
		}
	}
}

// WithOnlyPlaintext sets Streams.OnlyPlaintext.
func WithOnlyPlaintext(on bool) func(*Config) {
	return func(c *Config) { c.Streams.OnlyPlaintext = on }
}

// WithMaxReplay sets Streams.MaxReplay; n <= 0 keeps the default.
func WithMaxReplay(n int) func(*Config) {
	return positive(n, func(c *Config) *int { return &c.Streams.MaxReplay })
}

// WithMaxDisconnection sets Streams.MaxDisconnection; d <= 0 keeps the
// default.
func WithMaxDisconnection(d time.Duration) func(*Config) {
	return positive(d, func(c *Config) *time.Duration { return &c.Streams.MaxDisconnection })
}
