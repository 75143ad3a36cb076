package sioredis

import (
	"sync"
	"time"
)

// Observer receives what an adapter does as it happens, for metrics: the
// extra modules sioredisprom (Prometheus) and sioredisotel (OpenTelemetry)
// implement it, and redisadapter's WithObserver installs one. Totals and
// gauges that need no event (queue depths, subscriptions, reconnects,
// health) are read from [Stats] through the function given to Attach.
//
// Methods are called concurrently from the adapter's goroutines (publisher,
// subscriber, namespace workers, callers of cross-server requests) on hot
// paths: they must be safe for concurrent use, fast, and must not block or
// call back into the adapter.
//
// kind is the operation, as Node's API spells it: broadcast, socketsJoin,
// socketsLeave, disconnectSockets, fetchSockets, serverSideEmit, allRooms,
// the answers broadcastClientCount, broadcastAck, fetchSocketsResponse,
// allRoomsResponse, serverSideEmitResponse and socketOpResponse, or
// "unknown" for a message dropped before it was decoded. nsp is the
// namespace; dynamic namespaces make it unbounded, see [BoundedNamespaces].
type Observer interface {
	// Attach is called once by every builder the observer is installed in,
	// when the builder is created, with its Stats function. An observer
	// installed in several builders reports their sum.
	Attach(stats func() Stats)
	// Published is called once per message handed to Redis: latency runs
	// from queueing to Redis' reply; err is the error of a message Redis or
	// the connection refused (nil when it was accepted).
	Published(nsp, kind string, latency time.Duration, err error)
	// Received is called for a message of another server that was decoded
	// and is meant for this server: an operation applied to the local
	// sockets, or an answer to one of this server's pending requests.
	Received(nsp, kind string)
	// Dropped is called for a message dropped because a queue was full or
	// the adapter was closing (see [DropReason]).
	Dropped(nsp, kind string, reason DropReason)
	// Undecodable is called for a received message that could not be
	// decoded (garbage, truncated, hostile).
	Undecodable(nsp string)
	// RequestDone is called when a cross-server request of this server
	// ended (fetchSockets, allRooms, serverSideEmit with ack, broadcast with
	// acks), with how it ended and how long it took.
	RequestDone(nsp, kind string, outcome RequestOutcome, latency time.Duration)
}

// DropReason tells why a message was dropped.
type DropReason string

// The drop reasons.
const (
	// DropInboxFull: a received message found its namespace's inbox full
	// (redisadapter's WithInboxSize); counted in Stats.Dropped.
	DropInboxFull DropReason = "inboxFull"
	// DropPublishQueueFull: a message to publish found the publish queue
	// full (WithPublishQueueSize); counted in Stats.PublishDropped.
	DropPublishQueueFull DropReason = "publishQueueFull"
	// DropClosing: a queued message was still unpublished when the adapter
	// closed and Redis did not take it within the flush bound; counted in
	// Stats.PublishDropped.
	DropClosing DropReason = "closing"
)

// RequestOutcome tells how a cross-server request ended.
type RequestOutcome string

// The request outcomes.
const (
	// OutcomeComplete: every other server answered (or there was none).
	OutcomeComplete RequestOutcome = "complete"
	// OutcomePartial: the deadline passed with some answers but not all.
	OutcomePartial RequestOutcome = "partial"
	// OutcomeTimeout: the deadline passed with no answer, or before the
	// request could even be counted or published (Redis did not answer).
	OutcomeTimeout RequestOutcome = "timeout"
	// OutcomeFailed: any other error (Redis refused the command, the
	// adapter closed, the caller's context was canceled, a request the
	// wire format cannot carry).
	OutcomeFailed RequestOutcome = "failed"
)

// OtherNamespace is the label [BoundedNamespaces] gives to the namespaces
// past its limit.
const OtherNamespace = "other"

// BoundedNamespaces returns a namespace-to-label function for metrics that
// keeps the label set bounded when namespaces are dynamic: the first max
// distinct namespaces seen keep their own name, every later one maps to
// [OtherNamespace] ("other"). max <= 0 maps every namespace to "other".
// The function is safe for concurrent use.
func BoundedNamespaces(max int) func(nsp string) string {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(nsp string) string {
		mu.Lock()
		defer mu.Unlock()
		if seen[nsp] {
			return nsp
		}
		if len(seen) >= max {
			return OtherNamespace
		}
		seen[nsp] = true
		return nsp
	}
}
