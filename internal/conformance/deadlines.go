//go:build linux

package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/redistest"
)

// freezeRedis stops the redis-server process of srv with SIGSTOP, which is
// what a hung host looks like to its clients: connections stay open, nothing
// answers. The returned function (also run at cleanup) resumes it. The test
// is skipped when srv is not a local process of this test.
func freezeRedis(t *testing.T, srv *redistest.Server) (thaw func()) {
	t.Helper()
	if os.Getenv("REDIS_URL") != "" {
		t.Skip("freezing needs a redis-server process of the test's own")
	}
	info, err := srv.Client(t).Info(await.Ctx(t), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(comm)) != "redis-server" {
		t.Skipf("redis-server pid %d is not a local process (%v)", pid, err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	thaw = func() { once.Do(func() { _ = syscall.Kill(pid, syscall.SIGCONT) }) }
	t.Cleanup(thaw)
	return thaw
}

// wantTimeout fails unless err says the call ran out of time, both as
// ErrTimeout and as context.DeadlineExceeded.
func wantTimeout(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, sioredis.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: err = %v, want ErrTimeout and context.DeadlineExceeded", what, err)
	}
}

// RunDeadlinesWithPlainClient freezes Redis (SIGSTOP) under
// servers built on a plain redis.NewClient, whose commands ignore their
// context's deadline (ContextTimeoutEnabled is false) and give up only at
// the client's 3 s read timeout. Every cross-server call must still return
// within the adapter's requests timeout, with an error that says so, and
// leave nothing behind.
func RunDeadlinesWithPlainClient(t *testing.T, b Binding) {
	for _, sharded := range []bool{false, true} {
		t.Run(modeName(sharded), func(t *testing.T) { testDeadlines(t, b, sharded) })
	}
	await.NoGoroutines(t, b.Package)
}

func testDeadlines(t *testing.T, b Binding, sharded bool) {
	const (
		timeout    = time.Second
		bound      = 2 * timeout // generous; go-redis alone would take 3 s
		ackTimeout = 2 * time.Second
	)
	srv := redistest.Start(t)
	mk := func(name string) Node {
		rdb := redis.NewClient(srv.Options())
		if rdb.Options().ContextTimeoutEnabled {
			t.Fatal("the test needs a client without ContextTimeoutEnabled")
		}
		return b.Start(t, name, rdb, Config{Kind: kindOf(sharded), RequestsTimeout: timeout})
	}
	n0, n1 := mk("n0"), mk("n1")
	a0 := adapter(t, n0, "/")
	local := n0.Dial(t, "/", nil)
	asked := make(chan time.Time, 1)
	local.Answer("ask", func([]any) []any {
		asked <- time.Now()
		return []any{"local"}
	})
	_ = n1.Dial(t, "/", nil)
	if n, err := a0.ServerCountContext(await.Ctx(t)); err != nil || n != 2 {
		t.Fatalf("before the freeze: %d servers, %v", n, err)
	}

	thaw := freezeRedis(t, srv)
	t.Run("calls", func(t *testing.T) {
		timed := func(t *testing.T, limit time.Duration, call func()) {
			t.Helper()
			start := time.Now()
			call()
			if d := time.Since(start); d > limit {
				t.Fatalf("returned after %v, want < %v", d, limit)
			}
		}
		t.Run("ServerCountContext", func(t *testing.T) {
			t.Parallel()
			timed(t, bound, func() {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				_, err := a0.ServerCountContext(ctx)
				wantTimeout(t, "ServerCountContext", err)
			})
		})
		t.Run("FetchSockets", func(t *testing.T) {
			t.Parallel()
			timed(t, bound, func() {
				_, err := n0.FetchSockets(All)
				wantTimeout(t, "FetchSockets", err)
			})
		})
		t.Run("ServerSideEmitWithAck", func(t *testing.T) {
			t.Parallel()
			timed(t, bound, func() {
				_, aerr := n0.ServerSideEmitWithAck("sse")
				wantTimeout(t, "ServerSideEmitWithAck", aerr)
			})
		})
		t.Run("ServerSideEmit", func(t *testing.T) {
			t.Parallel()
			timed(t, bound, func() {
				wantTimeout(t, "ServerSideEmit", n0.ServerSideEmit("sse"))
			})
		})
		if !sharded {
			t.Run("AllRooms", func(t *testing.T) {
				t.Parallel()
				timed(t, bound, func() {
					_, err := a0.AllRooms(context.Background())
					wantTimeout(t, "AllRooms", err)
				})
			})
		}
		t.Run("EmitWithAck", func(t *testing.T) {
			t.Parallel()
			// The local client is served at once, whatever the server
			// count does; the operator then gets the local answer with
			// socket.io's timeout error, since the cluster's answer is
			// unknown.
			// socket.io's operator can call its ack twice (its timer
			// races its completion check): EmitWithAck keeps the first.
			start := time.Now()
			var got []any
			var err error
			timed(t, ackTimeout+timeout, func() {
				got, err = n0.EmitWithAck(All, ackTimeout, "ask")
			})
			select {
			case at := <-asked:
				if d := at.Sub(start); d > timeout/2 {
					t.Fatalf("the local client got the packet after %v: it waited for the server count", d)
				}
			default:
				t.Fatal("the local client never got the packet")
			}
			if len(got) != 1 || err == nil {
				t.Fatalf("ack got %v, %v after %v; want the local answer and a timeout error", got, err, time.Since(start))
			}
		})
	})
	thaw()

	// Redis answers again: the calls work again.
	await.Eventually(t, "2 servers counted", func() bool {
		n, err := a0.ServerCountContext(await.Ctx(t))
		return err == nil && n == 2
	})
	sockets, err := n0.FetchSockets(All)
	if err != nil || len(sockets) != 2 {
		t.Fatalf("after the freeze: %d sockets, %v", len(sockets), err)
	}
	n0.Close()
	n1.Close()
}

// RunCloseWhileRedisFrozen closes a server whose publisher is stuck in a
// pipeline to a frozen Redis (plain client, so only the 3 s read timeout
// would end it): io.Close must return within the flush bound, and nothing
// may be left once the client is closed.
func RunCloseWhileRedisFrozen(t *testing.T, b Binding) {
	const bound = 2500 * time.Millisecond // flush (1 s) + unsubscribe (1 s at most) + slack
	srv := redistest.Start(t)
	rdb := redis.NewClient(srv.Options())
	n0 := b.Start(t, "n0", rdb, Config{RequestsTimeout: time.Second})
	thaw := freezeRedis(t, srv)
	for i := 0; i < 100; i++ {
		n0.Emit(All, "tick", i)
	}
	time.Sleep(100 * time.Millisecond) // the publisher is now inside a pipeline
	start := time.Now()
	done := make(chan struct{})
	go func() { n0.CloseServer(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("io.Close did not return")
	}
	if d := time.Since(start); d > bound {
		t.Fatalf("io.Close took %v during the freeze, want < %v", d, bound)
	}
	_ = rdb.Close() // ends the command still waiting for Redis
	n0.Close()
	thaw()
	await.NoGoroutines(t, b.Package)
}
