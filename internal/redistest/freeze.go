package redistest

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// signal sends sig to the running server process.
func (in *instance) signal(sig syscall.Signal) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc == nil || in.proc.exited() {
		return errors.New("not running")
	}
	return in.proc.cmd.Process.Signal(sig)
}

// freeze stops in with SIGSTOP and thaws it again when the test ends, so
// that the server's own cleanup finds it running.
func freeze(t testing.TB, in *instance) {
	t.Helper()
	if err := in.signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("redistest: freeze %s: %v", in.addr(), err)
	}
	t.Cleanup(func() { _ = in.signal(syscall.SIGCONT) })
}

// thaw resumes in with SIGCONT.
func thaw(t testing.TB, in *instance) {
	t.Helper()
	if err := in.signal(syscall.SIGCONT); err != nil {
		t.Fatalf("redistest: thaw %s: %v", in.addr(), err)
	}
}

// Freeze suspends the server process with SIGSTOP: it keeps its port and
// its connections, the kernel still accepts new ones into the listen
// backlog, but nothing is ever answered, like a hung host or a silent
// network partition. Thaw resumes it; it is resumed at the end of the test
// in any case. For a server the test does not own or that is not a local
// process (REDIS_URL, Docker), Freeze skips the test.
func (s *Server) Freeze(t testing.TB) {
	t.Helper()
	s.own(t, "freeze")
	in, ok := s.b.(*instance)
	if !ok {
		t.Skip(fmt.Sprintf("redistest: cannot freeze a %T; install redis-server to run this test", s.b))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	freeze(t, in)
}

// Thaw resumes a server suspended by Freeze.
func (s *Server) Thaw(t testing.TB) {
	t.Helper()
	s.own(t, "thaw")
	in, ok := s.b.(*instance)
	if !ok {
		t.Skip(fmt.Sprintf("redistest: cannot thaw a %T", s.b))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	thaw(t, in)
}
