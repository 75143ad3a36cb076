package redisadapter_test

import (
	"bytes"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// The fault suite of the v2 binding, where the binding takes part: a Redis
// that stops answering must show (Healthy, a Warn log, a counter) on a v3
// server too, which recovers on its own and leaves nothing running. The
// faults handled by the core alone (credentials, refused subscriptions,
// Sentinel failover) are tested once, with the v2 binding.

// faultInterval is the health-check interval of the fault tests.
const faultInterval = 500 * time.Millisecond

// maxBackoff is the adapter's longest wait between connection attempts.
const maxBackoff = 5 * time.Second

// logSink collects a node's log lines.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns how many lines have the level and contain every part.
func (l *logSink) count(level string, parts ...string) int {
	n := 0
	for line := range strings.SplitSeq(l.String(), "\n") {
		if !strings.Contains(line, "level="+level) {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			n++
		}
	}
	return n
}

// faultNode starts a server with its own client from opts (or rdb when
// opts is nil) and a health-check interval of faultInterval.
func faultNode(t *testing.T, name string, rdb redis.UniversalClient, sharded bool, logs io.Writer) (*siotest.Node, *redisadapter.Builder) {
	t.Helper()
	l := slog.New(slog.DiscardHandler)
	if logs != nil {
		l = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	o := []redisadapter.Option{
		redisadapter.WithLogger(l),
		redisadapter.WithHealthCheckInterval(faultInterval),
		redisadapter.WithRequestsTimeout(time.Second),
	}
	var b *redisadapter.Builder
	if sharded {
		b = redisadapter.NewSharded(rdb, o...)
	} else {
		b = redisadapter.New(rdb, o...)
	}
	return siotest.StartNode(t, name, rdb, b), b
}

func modes() []bool { return []bool{false, true} }

func modeName(sharded bool) string {
	if sharded {
		return "sharded"
	}
	return "classic"
}

// within polls cond until it holds, failing the test after bound.
func within(t *testing.T, what string, bound time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > bound {
			t.Fatalf("%s: not within %v", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// connectionsReceived is Redis' count of accepted connections.
func connectionsReceived(t *testing.T, admin *redis.Client) int {
	t.Helper()
	info, err := admin.Info(siotest.Ctx(t), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_connections_received:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("no total_connections_received in INFO stats")
	return 0
}

// expectFresh emits ev from one node until the client receives one sent
// after the call, within bound: delivery works (again).
func expectFresh(t *testing.T, from *siotest.Node, c *siotest.Client, ev string, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	marker := strconv.FormatInt(time.Now().UnixNano(), 36)
	for {
		from.IO.Emit(ev, marker)
		select {
		case args := <-c.Chan(ev):
			if len(args) > 0 && args[0] == marker {
				return
			}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no fresh %q within %v", from.Name, ev, bound)
		}
	}
}

func closeAndCheckLeaks(t *testing.T, nodes ...*siotest.Node) {
	t.Helper()
	for _, n := range nodes {
		n.Close()
	}
	siotest.AssertNoGoroutines(t, "sioredis/sio3/redisadapter.")
}

// TestFrozenRedisIsDetected freezes Redis (SIGSTOP): the TCP connections
// stay open, so only a health check that needs a reply notices. The
// server must turn unhealthy within 2 x interval, count and log it, not
// spin while Redis is frozen, and hear the cluster again after SIGCONT.
func TestFrozenRedisIsDetected(t *testing.T) {
	for _, sharded := range modes() {
		t.Run(modeName(sharded), func(t *testing.T) {
			srv := redistest.Start(t)
			logs := &logSink{}
			a, ba := faultNode(t, "a", redis.NewClient(srv.Options()), sharded, logs)
			b, _ := faultNode(t, "b", redis.NewClient(srv.Options()), sharded, nil)
			c := a.Dial(t, "/", nil, "tick")
			within(t, "a healthy", 5*time.Second, ba.Healthy)
			expectFresh(t, b, c, "tick", 5*time.Second)
			admin := srv.Client(t)
			before := connectionsReceived(t, admin)

			start := time.Now()
			srv.Freeze(t)
			took := within(t, "a notices the frozen Redis", 2*faultInterval+time.Second, func() bool { return !ba.Healthy() })
			t.Logf("frozen Redis detected after %v (interval %v)", took, faultInterval)
			if st := ba.Stats(); st.HealthCheckFailures == 0 {
				t.Fatalf("health-check failure not counted: %+v", st)
			}
			if logs.count("WARN", "did not answer the health check") != 1 {
				t.Fatalf("want one Warn about the health check:\n%s", logs)
			}
			// Stay frozen a while: still unhealthy, and no reconnect spin.
			for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				if ba.Healthy() {
					t.Fatal("healthy while Redis is frozen")
				}
			}
			srv.Thaw(t)
			frozen := time.Since(start)
			within(t, "a healthy again after SIGCONT", maxBackoff+5*time.Second, ba.Healthy)
			// Connections queued while frozen are accepted now: count them
			// (both servers' subscribers and pools, and this client).
			attempts := connectionsReceived(t, admin) - before
			if limit := int(frozen.Seconds()*4) + 10; attempts > limit {
				t.Fatalf("%d connections in %v of freeze: a reconnect spin (limit %d)", attempts, frozen, limit)
			}
			t.Logf("%d connections accepted for a %v freeze", attempts, frozen.Round(time.Millisecond))
			expectFresh(t, b, c, "tick", 5*time.Second)
			if st := ba.Stats(); st.Reconnects == 0 || st.Subscriptions == 0 {
				t.Fatalf("after recovery: %+v", st)
			}
			closeAndCheckLeaks(t, a, b)
		})
	}
}
