package sioredis

import "errors"

// The sentinel errors of sioredis, for errors.Is. redisadapter and emitter
// re-export the ones their calls return.
var (
	// ErrTimeout is wrapped by the errors of cross-server calls that did
	// not finish within their timeout: a server count or a publish that
	// Redis did not answer in time, or answers that did not all arrive.
	// Those errors also wrap context.DeadlineExceeded.
	ErrTimeout = errors.New("sioredis: timeout reached")
	// ErrClosed is returned by calls on an adapter that has been closed.
	ErrClosed = errors.New("sioredis: adapter closed")
	// ErrQueueFull is wrapped by the error of a call that waits for Redis
	// when the publish queue is full; a broadcast that finds it full is
	// dropped and counted (Stats.PublishDropped).
	ErrQueueFull = errors.New("sioredis: publish queue full")
	// ErrNotSupported is wrapped by the error of a request the wire format
	// has no message for (allRooms in the sharded format, as in Node).
	ErrNotSupported = errors.New("sioredis: not supported by this wire format")
	// ErrServerGone is wrapped by the [PartialError] of a call that stopped
	// waiting for a server because it was declared dead (no heartbeat for
	// the heartbeat timeout) or announced that it left.
	ErrServerGone = errors.New("sioredis: server gone")
	// ErrInvalidNamespace is wrapped by the error for a namespace whose
	// name contains '#', the channel separator: its channels would be
	// another namespace's room channels ("/a#b" and room "b" of "/a" are
	// both P#/a#b#). Such a namespace is never shared through Redis.
	ErrInvalidNamespace = errors.New("sioredis: namespace name contains '#'")
	// ErrAnswerTooLarge is wrapped by the error of a fetchSockets whose
	// answer from some server exceeded the answer limit: that server sent
	// an empty answer instead (counted in Stats.AnswersTooLarge on it).
	ErrAnswerTooLarge = errors.New("sioredis: fetchSockets answer too large")
)
