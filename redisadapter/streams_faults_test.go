package redisadapter_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// streamsFaultNode starts a server with the streams adapter, short health
// checks and its log lines in logs (if set).
func streamsFaultNode(t *testing.T, name string, srv *redistest.Server, logs *logSink, extra ...redisadapter.Option) (*siotest.Node, *redisadapter.Builder) {
	t.Helper()
	l := slog.New(slog.DiscardHandler)
	if logs != nil {
		l = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	rdb := redis.NewClient(srv.Options())
	b := redisadapter.NewStreams(rdb, append([]redisadapter.Option{
		redisadapter.WithLogger(l),
		redisadapter.WithHealthCheckInterval(faultInterval),
		redisadapter.WithRequestsTimeout(time.Second),
		redisadapter.WithBlockTime(time.Second),
	}, extra...)...)
	return siotest.StartNode(t, name, rdb, b), b
}

// inOrder checks that frames carry 0..n-1 in order (first argument).
func inOrder(t *testing.T, frames []siotest.Frame) {
	t.Helper()
	for k, f := range frames {
		if i := int(f.Args[0].(float64)); i != k {
			t.Fatalf("frame #%d carries %d (%s)", k, i, f.Raw)
		}
	}
}

// killReaders closes the connections blocked in XREAD (the stream readers).
func killReaders(t *testing.T, admin *redis.Client) int {
	t.Helper()
	list, err := admin.ClientList(siotest.Ctx(t)).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.SplitSeq(list, "\n") {
		if !strings.Contains(line, "cmd=xread") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				if admin.Do(siotest.Ctx(t), "CLIENT", "KILL", "ID", id).Err() == nil {
					n++
				}
			}
		}
	}
	return n
}

// TestStreamsReaderResumes cuts the stream readers' connections again and
// again while entries keep coming: each reader resumes from its last
// offset, so the client gets every entry once, in order.
func TestStreamsReaderResumes(t *testing.T) {
	srv := redistest.Start(t)
	logs := &logSink{}
	b, bb := streamsFaultNode(t, "b", srv, logs)
	rc := siotest.DialRaw(t, b.URL, "/", nil, true)
	admin := srv.Client(t)
	em := emitter.New(srv.Client(t), emitter.WithStreams(true))

	const n = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if err := em.Emit("tick", i); err != nil {
				t.Error(err)
				return
			}
			if i%20 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	kills := 0
	for k := 0; k < 5; k++ {
		time.Sleep(30 * time.Millisecond)
		kills += killReaders(t, admin)
	}
	wg.Wait()
	if kills == 0 {
		t.Fatal("no reader connection was cut")
	}
	inOrder(t, rc.ExpectExactly("tick", n))
	if st := bb.Stats(); st.StreamReadErrors == 0 || st.StreamGaps != 0 {
		t.Fatalf("stats after %d cuts: %+v", kills, st)
	}
	if logs.Count("WARN", "cannot read the stream") == 0 {
		t.Fatalf("no Warn about the read failure:\n%s", logs)
	}
}

// TestStreamsRedisRestart restarts Redis (empty) under two servers: they
// turn unhealthy, count and log the read errors, come back on their own and
// deliver what is broadcast afterwards once each.
func TestStreamsRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	logs := &logSink{}
	a, ba := streamsFaultNode(t, "a", srv, nil)
	b, bb := streamsFaultNode(t, "b", srv, logs)
	rc := siotest.DialRaw(t, b.URL, "/", nil, true)
	for i := 0; i < 10; i++ {
		a.IO.Emit("tick", i)
	}
	inOrder(t, rc.ExpectExactly("tick", 10))

	srv.Restart(t)
	within(t, "a and b healthy again", maxBackoff+10*time.Second, func() bool { return ba.Healthy() && bb.Healthy() })
	// A broadcast right after the restart can race the reader's first
	// read on the new server; wait for one to get through, then count.
	siotest.Eventually(t, "a fresh broadcast", func() bool {
		a.IO.Emit("probe")
		_, err := waitFrames(rc, "probe", 1, 300*time.Millisecond)
		return err == nil
	})
	for i := 10; i < 30; i++ {
		a.IO.Emit("tick", i)
	}
	inOrder(t, rc.ExpectExactly("tick", 30))
	if st := bb.Stats(); st.StreamReadErrors == 0 {
		t.Fatalf("read errors not counted: %+v", st)
	}
	if logs.Count("WARN", "cannot read the stream") != 1 {
		t.Fatalf("want one Warn about the reader:\n%s", logs)
	}
	closeAndCheckLeaks(t, a, b)
}

// waitFrames polls the recorded ev frames for up to d.
func waitFrames(rc *siotest.RawClient, ev string, n int, d time.Duration) ([]siotest.Frame, error) {
	deadline := time.Now().Add(d)
	for {
		if f := rc.Frames(ev); len(f) >= n {
			return f, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d", len(rc.Frames(ev)), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStreamsFrozenRedis freezes Redis (SIGSTOP) under a streams server: it
// turns unhealthy within the health-check bound, closing does not hang, and
// after SIGCONT it delivers again, once each.
func TestStreamsFrozenRedis(t *testing.T) {
	srv := redistest.Start(t)
	a, ba := streamsFaultNode(t, "a", srv, nil)
	b, bb := streamsFaultNode(t, "b", srv, nil)
	rc := siotest.DialRaw(t, b.URL, "/", nil, true)
	a.IO.Emit("tick", 0)
	rc.ExpectExactly("tick", 1)

	srv.Freeze(t)
	within(t, "b notices the frozen Redis", 2*faultInterval+time.Second, func() bool { return !bb.Healthy() })
	srv.Thaw(t)
	within(t, "healthy after SIGCONT", maxBackoff+10*time.Second, func() bool { return ba.Healthy() && bb.Healthy() })
	for i := 1; i < 20; i++ {
		a.IO.Emit("tick", i)
	}
	inOrder(t, rc.ExpectExactly("tick", 20))
	if st := bb.Stats(); st.HealthCheckFailures == 0 {
		t.Fatalf("frozen Redis not counted: %+v", st)
	}

	// Closing while Redis is frozen is bounded.
	srv.Freeze(t)
	start := time.Now()
	a.Close()
	b.Close()
	took := time.Since(start)
	t.Logf("closed two servers during a freeze in %v", took)
	if took > 12*time.Second {
		t.Fatalf("closing during a freeze took %v", took)
	}
	srv.Thaw(t)
	siotest.AssertNoGoroutines(t, "sioredis/redisadapter.")
}

// TestStreamsGap makes a reader fall behind the trimming (MAXLEN ~ 10,
// one entry per read, a pipelined burst): it reports the gap (Warn log,
// Stats.StreamGaps) and goes on with what the stream still holds.
func TestStreamsGap(t *testing.T) {
	srv := redistest.Start(t)
	logs := &logSink{}
	b, bb := streamsFaultNode(t, "b", srv, logs, redisadapter.WithReadCount(1))
	rc := siotest.DialRaw(t, b.URL, "/", nil, true)
	admin := srv.Client(t)
	const n = 5000
	pipe := admin.Pipeline()
	for i := 0; i < n; i++ {
		pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: "socket.io", MaxLen: 10, Approx: true,
			Values: []string{"uid", "emitter", "nsp", "/", "type", "3",
				"data", fmt.Sprintf(`{"packet":{"type":2,"data":["tick",%d]},"opts":{"rooms":[],"except":[],"flags":{}}}`, i)}})
	}
	if _, err := pipe.Exec(siotest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	within(t, "the gap reported", 10*time.Second, func() bool { return bb.Stats().StreamGaps > 0 })
	if logs.Count("WARN", "trimmed before this server read them") == 0 {
		t.Fatalf("no Warn about the gap:\n%s", logs)
	}
	// It goes on: the last entry arrives, and nothing twice.
	siotest.Eventually(t, "the last tick", func() bool {
		f := rc.Frames("tick")
		return len(f) > 0 && int(f[len(f)-1].Args[0].(float64)) == n-1
	})
	seen := map[int]bool{}
	last := -1
	for _, f := range rc.Frames("tick") {
		i := int(f.Args[0].(float64))
		if seen[i] || i < last {
			t.Fatalf("tick %d twice or out of order", i)
		}
		seen[i], last = true, i
	}
	if len(seen) == n {
		t.Fatal("no entry was lost: the test did not make the reader fall behind")
	}
	t.Logf("%d of %d entries read, %d gap(s) reported", len(seen), n, bb.Stats().StreamGaps)
}

// TestStreamsHostileEntries: garbage on the stream is dropped and counted;
// the reader goes on with the entries after it.
func TestStreamsHostileEntries(t *testing.T) {
	srv := redistest.Start(t)
	b, bb := streamsFaultNode(t, "b", srv, nil)
	rc := siotest.DialRaw(t, b.URL, "/", nil, true)
	admin := srv.Client(t)
	bomb := strings.Repeat("[", 100000)
	hostile := [][]string{
		{"uid", "x", "type", "3", "data", "{}"},                                 // no nsp
		{"uid", "x", "nsp", "/", "type", "three", "data", "{}"},                 // bad type
		{"uid", "x", "nsp", "/", "type", "3", "data", "{\"packet\":"},           // truncated JSON
		{"uid", "x", "nsp", "/", "type", "3", "data", "!!not base64!!"},         // bad base64
		{"uid", "x", "nsp", "/", "type", "3", "data", "3gAAAAE="},               // msgpack map16 claiming entries it lacks
		{"uid", "x", "nsp", "/", "type", "3", "data", `{"packet":` + bomb},      // nesting bomb
		{"uid", "x", "nsp", "/", "type", "4", "data", `{"opts":5,"rooms":"r"}`}, // wrong types
		{"uid", "x", "nsp", "/", "type", "3", "data", `{"packet":{"type":2,"data":[]},"opts":{"rooms":[],"except":[],"flags":{}}}`},
	}
	for _, h := range hostile {
		if err := admin.XAdd(siotest.Ctx(t), &redis.XAddArgs{Stream: "socket.io", Values: h}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	em := emitter.New(admin, emitter.WithStreams(true))
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(em.Emit("tick", 0))
	inOrder(t, rc.ExpectExactly("tick", 1))
	if st := bb.Stats(); st.DecodeErrors < uint64(len(hostile)) || !st.Healthy {
		t.Fatalf("after %d hostile entries: %+v", len(hostile), st)
	}
}
