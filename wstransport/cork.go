package wstransport

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// maxCorked bounds what a corked connection holds before it writes anyway,
// so a large batch streams out in writes of about 64 KiB (the last frame
// appended may overshoot) instead of growing a buffer.
const maxCorked = 64 << 10

// corkPool recycles batch buffers across connections: an idle connection
// holds none.
var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// corkConn is the upgraded connection under gorilla/websocket. While corked
// (during a batch) or held (until the upgrade handler returned), writes
// collect in a buffer that goes out with one write(2) when neither holds any
// more; otherwise they go straight through. mu orders every write, so a
// control frame that gorilla writes from another goroutine during a batch
// lands between frames, never inside one (gorilla writes each frame under
// its own lock).
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	held   bool
	buf    *[]byte
	// deadline is the write deadline last set, to skip gorilla's
	// per-frame resets to "none" (each costs a lock in the runtime poller).
	deadline time.Time
	// raw reaches the socket for writes that must not wait (UncorkNow);
	// nil when the connection has no file descriptor (TLS, a test pipe).
	raw syscall.RawConn
	now *nowWriter
}

// newCorkConn wraps a hijacked connection.
func newCorkConn(c net.Conn, held bool) *corkConn {
	cc := &corkConn{Conn: c, held: held}
	if sc, ok := c.(syscall.Conn); ok && canWriteNow {
		if raw, err := sc.SyscallConn(); err == nil {
			cc.raw, cc.now = raw, newNowWriter()
		}
	}
	return cc
}

// writesNow reports whether UncorkNow can write without waiting.
func (c *corkConn) writesNow() bool { return c.raw != nil }

// SetWriteDeadline sets the connection's write deadline when it changes.
func (c *corkConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Equal(c.deadline) {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.deadline = t
	return nil
}

// SetDeadline sets both deadlines (see SetWriteDeadline).
func (c *corkConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.deadline = t
	return nil
}

// Write buffers p while corked or held, else writes it.
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked && !c.held {
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = corkPool.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= maxCorked && !c.held {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// writeFrame writes one WebSocket message of opcode op (text or binary)
// holding prefix then body, as a single unmasked frame with FIN set: what
// gorilla/websocket's NextWriter, Write and Close produce for an
// uncompressed server message, without their per-frame lock, copy and
// deadline reset. Only for connections without permessage-deflate.
func (c *corkConn) writeFrame(op byte, prefix, body []byte) error {
	var hdr [10]byte
	n := len(prefix) + len(body)
	hdr[0] = 0x80 | op
	h := 2
	switch {
	case n <= 125:
		hdr[1] = byte(n)
	case n <= 0xffff:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(n))
		h = 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(n))
		h = 10
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked && !c.held {
		// One write, so that a control frame cannot land inside it.
		b := make([]byte, 0, h+n)
		_, err := c.Conn.Write(append(append(append(b, hdr[:h]...), prefix...), body...))
		return err
	}
	if c.buf == nil {
		c.buf = corkPool.Get().(*[]byte)
	}
	*c.buf = append(append(append(*c.buf, hdr[:h]...), prefix...), body...)
	if len(*c.buf) >= maxCorked && !c.held {
		return c.flushLocked()
	}
	return nil
}

// Cork starts collecting writes.
func (c *corkConn) Cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// Uncork writes what was collected, with one write(2), and stops collecting
// (unless the connection is still held).
func (c *corkConn) Uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.drainLocked()
}

// UncorkNow writes what was collected with one write(2) that does not
// wait for the peer: what the socket does not take at once stays collected,
// and the connection stays corked, for Uncork to write from a goroutine that
// may wait. It reports whether something stays. Only for connections that
// writesNow.
func (c *corkConn) UncorkNow() (rest bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held || c.buf == nil || len(*c.buf) == 0 {
		c.corked = false
		return false, c.drainLocked()
	}
	if !c.deadline.IsZero() {
		// A past deadline would fail the write before it is tried.
		if err := c.Conn.SetWriteDeadline(time.Time{}); err != nil {
			return false, err
		}
		c.deadline = time.Time{}
	}
	b := *c.buf
	n, err := c.now.writeNow(c.raw, b)
	if err == nil && n < len(b) {
		*c.buf = b[:copy(b, b[n:])]
		return true, nil
	}
	*c.buf = b[:0]
	c.corked = false
	_ = c.drainLocked() // gives the buffer back
	return false, err
}

// release ends the hold of a new connection and writes what it collected
// (unless a batch is under way). A write error is left for the next write to
// report: the connection is broken either way.
func (c *corkConn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	_ = c.drainLocked()
}

// drainLocked sends the buffer and gives it back to the pool, unless
// something still holds it.
func (c *corkConn) drainLocked() error {
	if c.corked || c.held {
		return nil
	}
	err := c.flushLocked()
	if c.buf != nil {
		if cap(*c.buf) <= maxCorked*2 {
			*c.buf = (*c.buf)[:0]
			corkPool.Put(c.buf)
		}
		c.buf = nil
	}
	return err
}

func (c *corkConn) flushLocked() error {
	if c.buf == nil || len(*c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// Handler wraps the socket.io HTTP handler so that the connections it
// upgrades to WebSocket send a batch of packets with one write(2). Only
// upgrade requests are affected.
//
// It also closes a start-up race of socket.io v2.5.0: engine.io writes the
// open packet before socket.io has attached its listeners to the new
// connection, and a client quick enough to answer with its namespace
// CONNECT in that window is never connected. Handler holds what the upgrade
// writes (the 101 response and the open packet) until the handler returned,
// when socket.io is ready.
func Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			h.ServeHTTP(w, r)
			return
		}
		hj := &hijacker{ResponseWriter: w}
		defer hj.done()
		h.ServeHTTP(hj, r)
	})
}

// hijacker hands out a held corkConn when gorilla/websocket hijacks the
// connection, and releases it when the upgrade handler returns.
type hijacker struct {
	http.ResponseWriter
	mu       sync.Mutex
	conn     *corkConn
	returned bool
}

func (w *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn = newCorkConn(c, !w.returned)
	// engine.io keeps the request's ResponseWriter for the connection's
	// lifetime; let go of net/http's (its 4 KiB read and write buffers are
	// garbage after the hijack).
	w.ResponseWriter = hijacked{w.Header()}
	return w.conn, rw, nil
}

func (w *hijacker) done() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.returned = true
	if w.conn != nil {
		w.conn.release()
	}
}

// Unwrap lets http.ResponseController reach the server's ResponseWriter.
func (w *hijacker) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// hijacked stands in for the ResponseWriter of a hijacked connection: it
// writes nothing, as net/http's would.
type hijacked struct{ header http.Header }

func (h hijacked) Header() http.Header { return h.header }

func (hijacked) Write([]byte) (int, error) { return 0, http.ErrHijacked }

func (hijacked) WriteHeader(int) {}
