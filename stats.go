package sioredis

// Stats is a snapshot of the counters of one server's adapter (all its
// namespaces): redisadapter's Builder.Stats returns it. The counters only
// grow (except Subscriptions and Healthy).
type Stats struct {
	// Published counts messages handed to Redis successfully.
	Published uint64
	// PublishErrors counts messages Redis (or the connection) refused.
	PublishErrors uint64
	// PublishDropped counts fire-and-forget messages dropped because the
	// publish queue was full.
	PublishDropped uint64
	// Received counts messages that arrived on a subscribed channel.
	Received uint64
	// Dropped counts received messages dropped because a namespace inbox was
	// full.
	Dropped uint64
	// DecodeErrors counts received messages that could not be decoded.
	DecodeErrors uint64
	// Ignored counts well-formed messages that were not for this server
	// (own messages, rooms without local members, unknown types, other
	// namespaces).
	Ignored uint64
	// Reconnects counts how often the subscriber connection came back after
	// a failure.
	Reconnects uint64
	// HealthCheckFailures counts subscriber connections dropped because
	// Redis did not answer a PING in time (redisadapter's
	// WithHealthCheckInterval).
	HealthCheckFailures uint64
	// ConnectFailures counts failed attempts to (re)establish a subscriber
	// connection: refused or timed-out dials and refused handshakes
	// (WRONGPASS, NOAUTH, LOADING, MASTERDOWN...). Attempts are spaced by a
	// capped, jittered exponential backoff, so this grows slowly.
	ConnectFailures uint64
	// SubscribeRefused counts subscriptions Redis refused (for example
	// -NOPERM from an ACL without the channel). Each one is retried with
	// backoff; Healthy is false meanwhile.
	SubscribeRefused uint64
	// MasterSwitches counts subscriber connections moved to a new master
	// after a Sentinel failover.
	MasterSwitches uint64
	// RequestTimeouts counts cross-server requests that timed out.
	RequestTimeouts uint64
	// Subscriptions is the number of channels and patterns Redis has
	// confirmed and that are currently subscribed.
	Subscriptions int64
	// Healthy is false while a subscriber connection is down, unproven (no
	// reply to its last health check yet) or missing a wanted subscription.
	Healthy bool
}
