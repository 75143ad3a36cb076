package core

import (
	"context"
	"log/slog"
	"sync"
)

// rateLog logs a kind of problem at Warn the first time it happens and at
// Debug afterwards, so that a flood of garbage on a channel cannot flood the
// logs; the counters in Stats keep the totals.
type rateLog struct {
	l    *slog.Logger
	mu   sync.Mutex
	seen map[string]bool
}

func newRateLog(l *slog.Logger) *rateLog {
	return &rateLog{l: l, seen: map[string]bool{}}
}

func (r *rateLog) warn(kind, msg string, args ...any) {
	r.mu.Lock()
	first := !r.seen[kind]
	r.seen[kind] = true
	r.mu.Unlock()
	level := slog.LevelDebug
	if first {
		level = slog.LevelWarn
	}
	r.l.Log(context.Background(), level, "sioredis: "+msg, args...)
}

func (r *rateLog) debug(msg string, args ...any) {
	r.l.Debug("sioredis: "+msg, args...)
}

func (r *rateLog) info(msg string, args ...any) {
	r.l.Info("sioredis: "+msg, args...)
}
