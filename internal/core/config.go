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
	// PublishQueueSize bounds the messages waiting to be published.
	PublishQueueSize int
	// HealthCheckInterval is how often each subscriber connection proves
	// that Redis answers (a PING whose reply must come within half of it).
	HealthCheckInterval time.Duration
	// Observer receives the adapter's events for metrics (nil: none).
	Observer sioredis.Observer
}

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
	}
}
