package main

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// Experimental write coalescing (SIOREDIS_WS_COALESCE=1), to measure what
// batching WebSocket frames into fewer write(2) calls would gain.
//
// engine.io v2.5.0's websocket transport writes every packet of a flushed
// batch with its own gorilla/websocket message, and gorilla flushes each
// message with one write(2): one syscall per delivery, about half of the
// server's CPU in the S2 profile. Node's ws/libuv coalesce instead: while a
// write is pending, later frames queue and go out together. coalescingConn
// does the same below gorilla: Write appends to a per-connection buffer and
// one flusher goroutine sends whatever has accumulated with one write(2).
// Writers block while more than maxPending bytes wait (backpressure).
//
// This is a benchmark experiment, off by default: the fix belongs in the
// engine's transport (write a whole batch through one buffered writer).

const maxPending = 1 << 20

type coalescingConn struct {
	net.Conn
	mu       sync.Mutex
	cond     sync.Cond
	pending  []byte
	spare    []byte
	flushing bool
	err      error
}

func newCoalescingConn(c net.Conn) *coalescingConn {
	cc := &coalescingConn{Conn: c}
	cc.cond.L = &cc.mu
	return cc
}

func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	for len(c.pending) >= maxPending && c.err == nil {
		c.cond.Wait()
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	c.pending = append(c.pending, p...)
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
	c.mu.Unlock()
	return len(p), nil
}

func (c *coalescingConn) flush() {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 || c.err != nil {
			c.flushing = false
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
		buf := c.pending
		c.pending = c.spare[:0]
		c.mu.Unlock()

		_, err := c.Conn.Write(buf)

		c.mu.Lock()
		c.spare = buf[:0]
		if err != nil {
			c.err = err
		}
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// Close sends what is pending (at most 1 s), then closes.
func (c *coalescingConn) Close() error {
	deadline := time.Now().Add(time.Second)
	c.mu.Lock()
	for c.flushing && time.Now().Before(deadline) {
		c.mu.Unlock()
		time.Sleep(time.Millisecond)
		c.mu.Lock()
	}
	if c.err == nil {
		c.err = net.ErrClosed
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	return c.Conn.Close()
}

// coalescingWriter makes Hijack (used by the WebSocket upgrade) return a
// coalescingConn.
type coalescingWriter struct {
	http.ResponseWriter
}

func (w coalescingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return newCoalescingConn(c), rw, nil
}

func (w coalescingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func coalescing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			w = coalescingWriter{w}
		}
		h.ServeHTTP(w, r)
	})
}
