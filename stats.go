package sioredis

import "time"

// Stats is a snapshot of the counters of one server's adapter (all its
// namespaces): redisadapter's Builder.Stats returns it. The counters only
// grow; Subscriptions, InboxDepth, PublishQueueDepth and Healthy are gauges
// (values now). The JSON names are the field names in lower camel case
// (healthCheckFailures), for /debug endpoints and logs; durations are in
// nanoseconds there.
type Stats struct {
	// Published counts messages handed to Redis successfully.
	Published uint64 `json:"published"`
	// PublishErrors counts messages Redis (or the connection) refused.
	PublishErrors uint64 `json:"publishErrors"`
	// PublishDropped counts fire-and-forget messages dropped because the
	// publish queue was full.
	PublishDropped uint64 `json:"publishDropped"`
	// Received counts messages that arrived on a subscribed channel.
	Received uint64 `json:"received"`
	// Dropped counts received messages dropped because a namespace inbox was
	// full.
	Dropped uint64 `json:"dropped"`
	// DecodeErrors counts received messages that could not be decoded.
	DecodeErrors uint64 `json:"decodeErrors"`
	// Ignored counts well-formed messages that were not for this server
	// (own messages, rooms without local members, unknown types, other
	// namespaces).
	Ignored uint64 `json:"ignored"`
	// Reconnects counts how often the subscriber connection came back after
	// a failure.
	Reconnects uint64 `json:"reconnects"`
	// HealthCheckFailures counts subscriber connections dropped because
	// Redis did not answer a PING in time (redisadapter's
	// WithHealthCheckInterval).
	HealthCheckFailures uint64 `json:"healthCheckFailures"`
	// ConnectFailures counts failed attempts to (re)establish a subscriber
	// connection: refused or timed-out dials and refused handshakes
	// (WRONGPASS, NOAUTH, LOADING, MASTERDOWN...). Attempts are spaced by a
	// capped, jittered exponential backoff, so this grows slowly.
	ConnectFailures uint64 `json:"connectFailures"`
	// SubscribeRefused counts subscriptions Redis refused (for example
	// -NOPERM from an ACL without the channel). Each one is retried with
	// backoff; Healthy is false meanwhile.
	SubscribeRefused uint64 `json:"subscribeRefused"`
	// MasterSwitches counts subscriber connections moved to a new master
	// after a Sentinel failover.
	MasterSwitches uint64 `json:"masterSwitches"`
	// RequestTimeouts counts cross-server requests that timed out.
	RequestTimeouts uint64 `json:"requestTimeouts"`
	// UnsupportedSkipped counts live servers a request did not wait for
	// because their heartbeats do not announce the request kind (a server
	// of an older version during a rolling upgrade); one per server and
	// request.
	UnsupportedSkipped uint64 `json:"unsupportedSkipped"`
	// MembersDead counts servers declared dead: not heard for the
	// heartbeat timeout (one per server uid, that is per namespace).
	MembersDead uint64 `json:"membersDead"`
	// MembersLeft counts servers that announced they closed a namespace.
	MembersLeft uint64 `json:"membersLeft"`
	// Subscriptions is the number of channels and patterns Redis has
	// confirmed and that are currently subscribed.
	Subscriptions int64 `json:"subscriptions"`
	// Healthy is false while a subscriber connection is down, unproven (no
	// reply to its last health check yet) or missing a wanted subscription.
	Healthy bool `json:"healthy"`
	// RefusedNamespaces counts namespaces served without Redis because
	// their name contains '#' (ErrInvalidNamespace).
	RefusedNamespaces uint64 `json:"refusedNamespaces"`
	// AnswersTooLarge counts fetchSockets answers this server did not send
	// whole because they exceeded the answer limit (an empty answer
	// marked too large went instead), and answers it received so marked.
	AnswersTooLarge uint64 `json:"answersTooLarge"`
	// DescriptionsTrimmed counts sockets described in a fetchSockets
	// answer without their handshake or data because that description
	// exceeded the per-socket limit.
	DescriptionsTrimmed uint64 `json:"descriptionsTrimmed"`
	// InboxBytesDropped counts received messages dropped because a
	// namespace inbox held its byte budget already, or because they
	// exceeded the message size limit before being copied.
	InboxBytesDropped uint64 `json:"inboxBytesDropped"`
	// RejectedPackets counts broadcasts dropped because their packet was
	// not an EVENT or BINARY_EVENT (a principal allowed to publish
	// broadcasts must not disconnect clients).
	RejectedPackets uint64 `json:"rejectedPackets"`
	// RoomsFiltered counts room channels the sharded dynamic modes did not
	// subscribe because the room filter refused them (WithRoomFilter).
	RoomsFiltered uint64 `json:"roomsFiltered"`
	// InboxDepth is the number of received messages waiting for (or being
	// applied by) their namespace's worker, over all namespaces. It rises
	// when handlers are slower than the traffic; at WithInboxSize per
	// namespace further messages are dropped (Dropped).
	InboxDepth int64 `json:"inboxDepth"`
	// PublishQueueDepth is the number of messages waiting for the publisher
	// goroutine. It rises when Redis is slower than the emitters (or does
	// not answer); at WithPublishQueueSize further ones are dropped
	// (PublishDropped).
	PublishQueueDepth int64 `json:"publishQueueDepth"`
	// PublishLatency summarizes, for every message Redis accepted, the time
	// from queueing to Redis' reply.
	PublishLatency LatencySummary `json:"publishLatency"`
	// RequestLatency summarizes the duration of the cross-server requests
	// of this server (fetchSockets, allRooms, serverSideEmit with ack,
	// broadcasts with acks), whatever their outcome: timed-out ones last
	// their timeout.
	RequestLatency LatencySummary `json:"requestLatency"`
}

// LatencySummary summarizes durations since the adapter was created. The
// quantiles come from power-of-two buckets: each is the upper bound of its
// bucket (at most twice the true value), capped by Max.
type LatencySummary struct {
	// Count is the number of durations recorded.
	Count uint64 `json:"count"`
	// Sum is their total.
	Sum time.Duration `json:"sum"`
	// Max is the longest.
	Max time.Duration `json:"max"`
	// P50 and P99 are the median and the 99th percentile (upper bounds).
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
}
