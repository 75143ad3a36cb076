package emitter_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
)

// bounded runs op with a 500 ms deadline and checks that it fails promptly.
func bounded(t *testing.T, what string, op func(ctx context.Context) error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := op(c)
	took := time.Since(start)
	t.Logf("%s: %v after %v", what, err, took)
	switch {
	case err == nil:
		t.Errorf("%s: no error while Redis is unavailable", what)
	case took > 1500*time.Millisecond:
		t.Errorf("%s: returned after %v (err %v)", what, took, err)
	case !strings.HasPrefix(err.Error(), "sioredis: publishing to "):
		t.Errorf("%s: error not wrapped: %v", what, err)
	}
}

func allOps(e *emitter.Emitter) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"EmitContext":        func(c context.Context) error { return e.To("r").EmitContext(c, "ev", 1) },
		"SocketsJoinContext": func(c context.Context) error { return e.SocketsJoinContext(c, "r") },
		"SocketsLeaveContext": func(c context.Context) error {
			return e.SocketsLeaveContext(c, "r")
		},
		"DisconnectSocketsContext": func(c context.Context) error { return e.DisconnectSocketsContext(c, true) },
		"ServerSideEmitContext":    func(c context.Context) error { return e.ServerSideEmitContext(c, "ev") },
	}
}

// TestRedisDown stops Redis under the emitter: every call fails within its
// deadline, and emits work again once Redis is back.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	e := emitter.New(rdb)
	se := emitter.New(rdb, emitter.WithSharded(true))
	must(t, e.Emit("before"))
	must(t, se.Emit("before"))

	srv.Stop(t)
	// Concurrently, so that the test takes one deadline, not ten.
	var wg sync.WaitGroup
	for i, em := range []*emitter.Emitter{e, se} {
		for name, op := range allOps(em) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				bounded(t, fmt.Sprint(name, " sharded=", i == 1), op)
			}()
		}
	}
	wg.Wait()

	srv.Restart(t)
	siotest.Eventually(t, "emit after restart", func() bool {
		c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		return e.EmitContext(c, "probe") == nil
	})
	capt := psubscribeAll(t, srv.Client(t))
	must(t, e.To("room").Emit("after", 1))
	if m := capt.next(t); m.Channel != "socket.io#/#room#" || !strings.Contains(m.Payload, "after") {
		t.Fatalf("after restart: %s %q", m.Channel, m.Payload)
	}
	must(t, se.Emit("after"))
}

// TestRedisHung pauses Redis so that it accepts connections but does not
// answer writes: with go-redis' ContextTimeoutEnabled the deadline still
// bounds the call (without it, go-redis applies its ReadTimeout only).
func TestRedisHung(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	e := emitter.New(rdb)
	must(t, e.Emit("warm-up"))
	ctl := srv.Client(t)
	must(t, ctl.Do(ctx(t), "CLIENT", "PAUSE", "5000", "WRITE").Err())
	defer ctl.Do(context.Background(), "CLIENT", "UNPAUSE")
	bounded(t, "EmitContext on a paused Redis", func(c context.Context) error { return e.EmitContext(c, "ev") })
}
