package redisadapter

import "errors"

func isTimeout(err error) bool { return errors.Is(err, ErrTimeout) }
