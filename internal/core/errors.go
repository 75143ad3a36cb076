package core

import "github.com/sioredis/sioredis"

// The sentinels the core returns, defined by the root package.
var (
	ErrTimeout      = sioredis.ErrTimeout
	ErrClosed       = sioredis.ErrClosed
	ErrQueueFull    = sioredis.ErrQueueFull
	ErrNotSupported = sioredis.ErrNotSupported
)
