package redistest

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// backend is a standalone Redis this package owns and can stop and start
// again: a local redis-server process or a Docker container.
type backend interface {
	addr() string
	start() error // start again (on the same port where possible) and wait until it answers
	stop(kill bool)
	running() bool
}

// Server is a standalone Redis for one test, from [Start].
type Server struct {
	url string  // REDIS_URL, for a server we do not own
	b   backend // nil for a server we do not own

	mu sync.Mutex // serializes Stop, Kill and Restart
}

// Start returns a standalone Redis for the test: the one at REDIS_URL if
// that is set, else a new redis-server process on a free 127.0.0.1 port,
// else a Docker container. A server it starts is stopped when the test and
// its subtests have finished. If none of these is possible, the test fails
// with a message saying how to install redis-server.
//
// A REDIS_URL server is shared by all tests (and is not flushed), so tests
// that may run against one should use keys and channels of their own.
func Start(t testing.TB) *Server {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		if _, err := redis.ParseURL(u); err != nil {
			t.Fatalf("redistest: bad REDIS_URL %q: %v", u, err)
		}
		return &Server{url: u}
	}
	if _, err := redisServerBin(); err == nil {
		return &Server{b: startLocal(t, nil)}
	}
	dockerErr := dockerUsable()
	if dockerErr == nil {
		return &Server{b: startContainer(t)}
	}
	t.Fatalf("redistest: no Redis to test against: redis-server is not on PATH "+
		"(install it: apt-get install -y redis-server) and REDIS_URL is not set; "+
		"Docker is not usable either (%v)", dockerErr)
	return nil
}

// startLocal starts a redis-server process with the extra arguments on a
// free port in a new temporary directory and stops it at the end of the
// test.
func startLocal(t testing.TB, extra []string) *instance {
	t.Helper()
	in, err := startInstance(t.TempDir(), func(int) ([]string, error) { return extra, nil })
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() { in.stop(false) })
	return in
}

// startInstance starts a redis-server process in dir on a free port, with
// the extra arguments args returns for that port, retrying on other ports
// if one picked was taken meanwhile. The caller must stop it.
func startInstance(dir string, args func(port int) ([]string, error)) (*instance, error) {
	if _, err := redisServerBin(); err != nil {
		return nil, fmt.Errorf("redis-server is not on PATH (install it: apt-get install -y redis-server): %w", err)
	}
	var err error
	for range startAttempts {
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		var extra []string
		if extra, err = args(port); err != nil {
			return nil, err
		}
		in := newInstance(dir, port, extra...)
		if err = in.start(); err == nil {
			return in, nil
		}
		if !errors.Is(err, errPortInUse) {
			return nil, err
		}
	}
	return nil, err
}

// Addr returns the server's address as host:port, e.g. "127.0.0.1:41234".
// It stays the same across Stop and Restart.
func (s *Server) Addr() string {
	if s.b == nil {
		opts, _ := redis.ParseURL(s.url) // checked in Start
		return opts.Addr
	}
	return s.b.addr()
}

// URL returns a redis:// URL for the server (REDIS_URL itself if the
// server came from there).
func (s *Server) URL() string {
	if s.b == nil {
		return s.url
	}
	return "redis://" + s.b.addr()
}

// Options returns new client options for the server, for tests that want
// to tune a client before creating it.
func (s *Server) Options() *redis.Options {
	opts, _ := redis.ParseURL(s.URL()) // a URL from Start always parses
	return opts
}

// Client returns a new client for the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(s.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Stop shuts the server down gracefully (SIGTERM) and waits until it has
// exited; its port stays reserved for Restart. Stopping a stopped server
// does nothing. For a server the test does not own (REDIS_URL), Stop skips
// the test.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.own(t, "stop")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.stop(false)
}

// Kill ends the server abruptly (SIGKILL), like a crash, and waits until it
// has exited. For a server the test does not own (REDIS_URL), Kill skips
// the test.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.own(t, "kill")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.stop(true)
}

// Restart stops the server if it is running, starts it again on the same
// port, and waits until it answers. The data set starts out empty. For a
// server the test does not own (REDIS_URL), Restart skips the test.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.own(t, "restart")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.stop(false)
	if err := s.b.start(); err != nil {
		t.Fatalf("redistest: restart %s: %v", s.b.addr(), err)
	}
}

// Running reports whether the server is up (always true for REDIS_URL).
func (s *Server) Running() bool {
	return s.b == nil || s.b.running()
}

// own skips the test if the server is not ours to control, and fails it
// under CI (CI set): there a skipped restart test would pass unseen.
func (s *Server) own(t testing.TB, what string) {
	t.Helper()
	if s.b == nil {
		msg := fmt.Sprintf("redistest: cannot %s the Redis at REDIS_URL (%s): this test does not own it; unset REDIS_URL to run this test against its own redis-server", what, s.url)
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: not skipped)")
		}
		t.Skip(msg)
	}
}

// StartProcess starts a standalone redis-server outside of any test, for a
// TestMain or runnable examples, and returns its address and a function that
// stops it and removes its directory. With REDIS_URL set it returns that
// server's address and a no-op stop.
func StartProcess() (addr string, stop func(), err error) {
	if u := os.Getenv("REDIS_URL"); u != "" {
		opts, err := redis.ParseURL(u)
		if err != nil {
			return "", nil, fmt.Errorf("redistest: bad REDIS_URL %q: %w", u, err)
		}
		return opts.Addr, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return "", nil, err
	}
	in, err := startInstance(dir, func(int) ([]string, error) { return nil, nil })
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("redistest: %w", err)
	}
	return in.addr(), func() { in.stop(false); _ = os.RemoveAll(dir) }, nil
}

// RunWithServer is a TestMain body for packages whose runnable examples need
// Redis: it starts a redis-server (StartProcess), stores its address in
// *addr, runs the tests and stops the server. It returns the exit code.
func RunWithServer(m *testing.M, addr *string) int {
	a, stop, err := StartProcess()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	*addr = a
	return m.Run()
}

// RunWithEnv is RunWithServer for runnable examples that read the address
// of their Redis from the environment variable name, as a program copied
// from them would.
func RunWithEnv(m *testing.M, name string) int {
	a, stop, err := StartProcess()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	if err := os.Setenv(name, a); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
