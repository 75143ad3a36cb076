//go:build !unix

package wstransport

import "syscall"

// canWriteNow is false: without a non-blocking write every batch goes
// through a writer goroutine.
const canWriteNow = false

type nowWriter struct{}

func newNowWriter() *nowWriter { return &nowWriter{} }

func (*nowWriter) writeNow(syscall.RawConn, []byte) (int, error) { return 0, syscall.EINVAL }
