package wstransport

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// Defaults of [Options].
const (
	// DefaultWriteTimeout is how long a connection may take to accept a
	// packet before it is closed.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxQueuedBytes is how much may wait for one connection behind
	// the write in progress before it is closed.
	DefaultMaxQueuedBytes = 8 << 20
)

// Options bound what a client that does not read costs the server. A zero
// field takes its default; a negative one disables that bound.
type Options struct {
	// WriteTimeout bounds how long a connection may take to accept each
	// packet (the deadline is renewed as a batch goes out, so a large batch
	// to a client that reads is not cut). A connection past it is closed
	// and counted in Stats.WriteTimeouts. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MaxQueuedBytes caps the packets (payload bytes, plus a small
	// per-packet overhead) that wait for a connection while a write to it is
	// in progress. A connection that would exceed it is closed and counted
	// in Stats.QueueOverflows: a client that stops reading costs at most
	// about this much plus the batch being written. Default
	// DefaultMaxQueuedBytes.
	MaxQueuedBytes int64
	// NoInlineWrites makes every batch go through a writer goroutine. By
	// default a connection that is idle (nothing being written or queued,
	// nothing sent within the last millisecond, no sign of a backlog within
	// the last 20 ms) gets a small batch written
	// on the sending goroutine, with a write(2) that does not wait for the
	// peer (on Unix, for connections upgraded through Handler without
	// TLS); this saves a goroutine start and wake-up per delivery at
	// moderate rates. For A/B measurements.
	NoInlineWrites bool
	// Logger receives a Warn (at most one a minute per kind of problem,
	// the rest at Debug) when a connection is closed for one of these
	// bounds. Default slog.Default().
	Logger *slog.Logger
}

// config is Options with the defaults applied.
type config struct {
	writeTimeout time.Duration // 0: none
	maxQueued    int64         // 0: none
	inline       bool
	log          *rateLog
}

func (o Options) config() *config {
	c := &config{writeTimeout: o.WriteTimeout, maxQueued: o.MaxQueuedBytes, inline: !o.NoInlineWrites}
	switch {
	case c.writeTimeout == 0:
		c.writeTimeout = DefaultWriteTimeout
	case c.writeTimeout < 0:
		c.writeTimeout = 0
	}
	switch {
	case c.maxQueued == 0:
		c.maxQueued = DefaultMaxQueuedBytes
	case c.maxQueued < 0:
		c.maxQueued = 0
	}
	l := o.Logger
	if l == nil {
		l = slog.Default()
	}
	c.log = newRateLog(l, time.Minute)
	return c
}

// current holds the options new connections take.
var current atomic.Pointer[config]

func init() { current.Store(Options{}.config()) }

// InstallWith is [Install] with options. The options apply to connections
// created after the call; a later InstallWith replaces them (Install keeps
// them).
func InstallWith(o Options) {
	current.Store(o.config())
	Install()
}
