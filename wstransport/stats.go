package wstransport

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts the connections this package closed to protect the process,
// since it started (all servers together).
type Stats struct {
	// QueueOverflows counts connections closed because more than
	// Options.MaxQueuedBytes waited for them (a client that does not read
	// while the server keeps sending).
	QueueOverflows uint64
	// WriteTimeouts counts connections closed because a packet could not be
	// written within Options.WriteTimeout.
	WriteTimeouts uint64
	// MessagesTooBig counts connections closed because a message they sent
	// was larger than the server's MaxHttpBufferSize once decompressed
	// (gorilla/websocket's read limit counts the compressed bytes).
	MessagesTooBig uint64
}

var counters struct {
	queueOverflows, writeTimeouts, messagesTooBig atomic.Uint64
	// Batches Send wrote inline, and those of them whose rest went to the
	// writer goroutine (read by the tests).
	inlineWrites, inlineRests atomic.Uint64
}

// ReadStats returns the counters.
func ReadStats() Stats {
	return Stats{
		QueueOverflows: counters.queueOverflows.Load(),
		WriteTimeouts:  counters.writeTimeouts.Load(),
		MessagesTooBig: counters.messagesTooBig.Load(),
	}
}

// rateLog logs a kind of problem at Warn at most once per interval and at
// Debug otherwise: a client that misbehaves on purpose, or many of them,
// cannot flood the logs; Stats keeps the totals.
type rateLog struct {
	l        *slog.Logger
	interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
}

func newRateLog(l *slog.Logger, interval time.Duration) *rateLog {
	return &rateLog{l: l, interval: interval, last: map[string]time.Time{}}
}

func (r *rateLog) warn(kind, msg string, args ...any) {
	now := time.Now()
	r.mu.Lock()
	level := slog.LevelDebug
	if last, ok := r.last[kind]; !ok || now.Sub(last) >= r.interval {
		r.last[kind] = now
		level = slog.LevelWarn
	}
	r.mu.Unlock()
	r.l.Log(context.Background(), level, "sioredis/wstransport: "+msg, args...)
}
