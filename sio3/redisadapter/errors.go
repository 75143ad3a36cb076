package redisadapter

import "github.com/sioredis/sioredis"

// The errors the adapter's calls wrap (the sioredis package's sentinels).
var (
	// ErrTimeout is wrapped by the errors of cross-server calls that did
	// not get every expected answer within their timeout.
	ErrTimeout = sioredis.ErrTimeout
	// ErrClosed is returned by calls on an adapter that has been closed.
	ErrClosed = sioredis.ErrClosed
	// ErrQueueFull is wrapped by the error of a call that waits for Redis
	// when the publish queue is full.
	ErrQueueFull = sioredis.ErrQueueFull
	// ErrNotSupported is wrapped by the error of a request the wire format
	// has no message for (AllRooms with the sharded adapter).
	ErrNotSupported = sioredis.ErrNotSupported
	// ErrServerGone is wrapped by the [PartialError] of a call that stopped
	// waiting for a server declared dead or departed.
	ErrServerGone = sioredis.ErrServerGone
	// ErrInvalidNamespace is wrapped by the error logged for a namespace
	// whose name contains '#' (see [Builder.New]).
	ErrInvalidNamespace = sioredis.ErrInvalidNamespace
	// ErrAnswerTooLarge is wrapped by the error of a fetchSockets when a
	// server's answer exceeded the answer limit ([WithMaxAnswerBytes]).
	ErrAnswerTooLarge = sioredis.ErrAnswerTooLarge
)

// PartialError is the error of a cross-server call that returned without
// every expected answer ([sioredis.PartialError]); get it with errors.As.
type PartialError = sioredis.PartialError
