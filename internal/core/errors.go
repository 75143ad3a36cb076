package core

import (
	"errors"

	"github.com/sioredis/sioredis"
)

// The sentinels the core returns, defined by the root package.
var (
	ErrTimeout      = sioredis.ErrTimeout
	ErrClosed       = sioredis.ErrClosed
	ErrQueueFull    = sioredis.ErrQueueFull
	ErrNotSupported = sioredis.ErrNotSupported
	ErrServerGone   = sioredis.ErrServerGone

	ErrInvalidNamespace = sioredis.ErrInvalidNamespace
	ErrAnswerTooLarge   = sioredis.ErrAnswerTooLarge
)

func isTimeout(err error) bool { return errors.Is(err, ErrTimeout) }
