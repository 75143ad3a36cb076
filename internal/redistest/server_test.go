package redistest_test

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/redistest"
)

func TestStartServesCommands(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Addr() == "127.0.0.1:6379" {
		t.Fatalf("Addr() = %q, want a free 127.0.0.1 port", s.Addr())
	}
	if want := "redis://" + s.Addr(); s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
	ctx := context.Background()
	rdb := s.Client(t)
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want \"v\"", got, err)
	}
	// No persistence: nothing may be written to disk behind the test's back.
	cfg, err := rdb.ConfigGet(ctx, "save").Result()
	if err != nil || cfg["save"] != "" {
		t.Fatalf("CONFIG GET save = %v, %v; want empty", cfg, err)
	}
}

func TestStopAndRestartOnSamePort(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	ctx := context.Background()
	old := s.Client(t)
	if err := old.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	addr := s.Addr()

	s.Stop(t)
	if s.Running() {
		t.Fatal("Running() after Stop")
	}
	if err := quickClient(t, s).Ping(ctx).Err(); err == nil {
		t.Fatal("PING from a new client succeeded on a stopped server")
	}

	s.Restart(t)
	if s.Addr() != addr {
		t.Fatalf("Addr() after Restart = %q, want %q", s.Addr(), addr)
	}
	if err := s.Client(t).Ping(ctx).Err(); err != nil {
		t.Fatalf("PING from a new client after Restart: %v", err)
	}
	// The old client, whose pooled connection broke, reconnects by itself;
	// the data set starts out empty.
	if n, err := old.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS from the old client after Restart = %d, %v; want 0, nil", n, err)
	}
	if err := old.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatalf("SET from the old client after Restart: %v", err)
	}
}

func TestKillAndRestart(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	ctx := context.Background()
	rdb := s.Client(t)
	s.Kill(t)
	if err := quickClient(t, s).Ping(ctx).Err(); err == nil {
		t.Fatal("PING succeeded on a killed server")
	}
	s.Restart(t)
	s.Restart(t) // restarting a running server works too
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
}

// quickClient returns a client that gives up on a down server at once.
func quickClient(t *testing.T, s *redistest.Server) *redis.Client {
	opts := s.Options()
	opts.MaxRetries, opts.DialerRetries = -1, 1
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func TestServersAreStoppedAtCleanup(t *testing.T) {
	t.Parallel()
	var addrs []string
	t.Run("start", func(t *testing.T) {
		for range 3 {
			addrs = append(addrs, redistest.Start(t).Addr())
		}
	})
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			t.Fatalf("two servers on %s", a)
		}
		seen[a] = true
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s still accepts connections after its test ended", a)
		}
	}
}

func TestRedisURLIsUsedAndNotControlled(t *testing.T) {
	// Not parallel: it sets an environment variable.
	own := redistest.Start(t)
	t.Setenv("REDIS_URL", own.URL())
	t.Setenv("CI", "")
	s := redistest.Start(t)
	if s.Addr() != own.Addr() || s.URL() != own.URL() {
		t.Fatalf("Start with REDIS_URL=%s gave %s", own.URL(), s.Addr())
	}
	if err := s.Client(t).Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
	for name, f := range map[string]func(testing.TB){"Stop": s.Stop, "Kill": s.Kill, "Restart": s.Restart} {
		t.Run(name, func(t *testing.T) {
			f(t)
			t.Error("did not skip")
		})
	}
	if !own.Running() {
		t.Fatal("the server behind REDIS_URL was stopped")
	}
}

// outcomeTB records whether a test body skipped or failed.
type outcomeTB struct {
	testing.TB
	skipped, failed bool
}

func (o *outcomeTB) Helper()               {}
func (o *outcomeTB) Skip(...any)           { o.skipped = true; runtime.Goexit() }
func (o *outcomeTB) Fatal(...any)          { o.failed = true; runtime.Goexit() }
func (o *outcomeTB) Fatalf(string, ...any) { o.failed = true; runtime.Goexit() }

// TestRedisURLUnderCIFails checks that under CI a test that must stop or
// restart the Redis at REDIS_URL fails instead of skipping unseen.
func TestRedisURLUnderCIFails(t *testing.T) {
	own := redistest.Start(t)
	t.Setenv("REDIS_URL", own.URL())
	t.Setenv("CI", "true")
	s := redistest.Start(t)
	for name, f := range map[string]func(testing.TB){"Stop": s.Stop, "Kill": s.Kill, "Restart": s.Restart} {
		o := &outcomeTB{TB: t}
		done := make(chan struct{})
		go func() { defer close(done); f(o) }()
		<-done
		if !o.failed || o.skipped {
			t.Errorf("%s under CI: failed=%v skipped=%v, want a failure", name, o.failed, o.skipped)
		}
	}
	if !own.Running() {
		t.Fatal("the server behind REDIS_URL was stopped")
	}
}
