//go:build unix

package wstransport

import (
	"os"
	"syscall"
)

const canWriteNow = true

// writeNow writes b to the non-blocking socket behind rc as far as it takes
// it without waiting, and reports how much it took.
func writeNow(rc syscall.RawConn, b []byte) (n int, err error) {
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, e := syscall.Write(int(fd), b[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return true // full: the rest waits for a goroutine
			case e != nil:
				werr = os.NewSyscallError("write", e)
				return true
			case m <= 0:
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}
