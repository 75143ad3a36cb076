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
	// RequestTimeouts counts cross-server requests that timed out.
	RequestTimeouts uint64
	// Subscriptions is the number of channels and patterns currently
	// subscribed.
	Subscriptions int64
	// Healthy is false while the subscriber connection is down.
	Healthy bool
}
