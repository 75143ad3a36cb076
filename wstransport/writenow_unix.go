//go:build unix

package wstransport

import (
	"os"
	"syscall"
)

const canWriteNow = true

// nowWriter writes to a non-blocking socket as far as it takes the bytes
// without waiting. Its write method is bound once per connection: a closure
// made per call would be allocated per delivery (RawConn.Write keeps it).
type nowWriter struct {
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

func newNowWriter() *nowWriter {
	w := &nowWriter{}
	w.fn = w.write
	return w
}

func (w *nowWriter) write(fd uintptr) bool {
	for w.n < len(w.b) {
		m, e := syscall.Write(int(fd), w.b[w.n:])
		if m > 0 {
			w.n += m
		}
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return true // full: the rest waits for a goroutine
		case e != nil:
			w.err = os.NewSyscallError("write", e)
			return true
		case m <= 0:
			return true
		}
	}
	return true
}

// writeNow writes b to the socket behind rc as far as it takes it without
// waiting, and reports how much it took. Not for concurrent use (the
// corkConn's lock orders the calls).
func (w *nowWriter) writeNow(rc syscall.RawConn, b []byte) (int, error) {
	w.b, w.n, w.err = b, 0, nil
	err := rc.Write(w.fn)
	if err == nil {
		err = w.err
	}
	n := w.n
	w.b = nil
	return n, err
}
