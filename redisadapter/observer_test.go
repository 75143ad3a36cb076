package redisadapter_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// recorder is an Observer that counts its events by a readable key.
type recorder struct {
	mu       sync.Mutex
	counts   map[string]int
	attached int
	stats    func() sioredis.Stats
}

func newRecorder() *recorder { return &recorder{counts: map[string]int{}} }

func (r *recorder) add(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[fmt.Sprintf(format, a...)]++
}

func (r *recorder) get(format string, a ...any) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[fmt.Sprintf(format, a...)]
}

func (r *recorder) Attach(stats func() sioredis.Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attached++
	r.stats = stats
}

func (r *recorder) Published(nsp, kind string, d time.Duration, err error) {
	if d < 0 {
		r.add("negative latency")
	}
	r.add("published %s %s err=%v", nsp, kind, err != nil)
}
func (r *recorder) Received(nsp, kind string) { r.add("received %s %s", nsp, kind) }
func (r *recorder) Dropped(nsp, kind string, reason sioredis.DropReason) {
	r.add("dropped %s %s %s", nsp, kind, reason)
}
func (r *recorder) Undecodable(nsp string) { r.add("undecodable %s", nsp) }
func (r *recorder) RequestDone(nsp, kind string, o sioredis.RequestOutcome, d time.Duration) {
	r.add("request %s %s %s", nsp, kind, o)
}

// TestObserver checks what an observer hears from real traffic between
// three servers, and the latency summaries and queue depths of Stats.
func TestObserver(t *testing.T) {
	srv := redistest.Start(t)
	var recs [3]*recorder
	var builders [3]*redisadapter.Builder
	var nodes [3]*siotest.Node
	for i := range nodes {
		recs[i] = newRecorder()
		builders[i] = redisadapter.New(srv.Client(t), redisadapter.WithObserver(recs[i]),
			redisadapter.WithRequestsTimeout(time.Second), redisadapter.WithLogger(slog.New(slog.DiscardHandler)))
		nodes[i] = siotest.StartNode(t, fmt.Sprintf("node%d", i), nil, builders[i])
		if recs[i].attached != 1 || recs[i].stats == nil {
			t.Fatalf("node%d: Attach called %d times", i, recs[i].attached)
		}
	}
	// node1 answers "sse" acks, node2 never does.
	nodes[1].IO.On("sse", func(a ...any) { a[len(a)-1].(socket.Ack)([]any{"yes"}, nil) })
	nodes[2].IO.On("sse", func(...any) {})
	for i := range nodes {
		if err := builders[i].WaitHealthy(siotest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	c := nodes[1].Dial(t, "/", nil, "news")
	c.Call("join", "room1")

	const broadcasts = 5
	for i := range broadcasts {
		nodes[0].IO.To("room1").Emit("news", i)
	}
	c.ExpectExactly("news", broadcasts)
	siotest.Eventually(t, "the broadcasts counted as published", func() bool {
		return recs[0].get("published / broadcast err=false") == broadcasts
	})
	if n := recs[1].get("received / broadcast"); n != broadcasts {
		t.Errorf("node1 received %d broadcasts, want %d", n, broadcasts)
	}

	var fetched []*socket.RemoteSocket
	nodes[0].IO.FetchSockets()(func(s []*socket.RemoteSocket, err error) {
		if err != nil {
			t.Error(err)
		}
		fetched = s
	})
	if len(fetched) != 1 {
		t.Fatalf("fetched %d sockets, want 1", len(fetched))
	}
	if n := recs[0].get("request / fetchSockets complete"); n != 1 {
		t.Errorf("fetchSockets complete reported %d times", n)
	}
	if n := recs[0].get("received / fetchSocketsResponse"); n != 2 {
		t.Errorf("node0 received %d fetchSockets answers, want 2", n)
	}
	for i := 1; i < 3; i++ {
		siotest.Eventually(t, "the answer counted as published", func() bool {
			return recs[i].get("published / fetchSocketsResponse err=false") == 1
		})
	}

	// One server answers, the other does not: partial; nobody answers:
	// timeout.
	_ = nodes[0].IO.ServerSideEmitWithAck("sse", 1)(func([]any, error) {})
	if n := recs[0].get("request / serverSideEmit partial"); n != 1 {
		t.Errorf("partial serverSideEmit reported %d times; counts %v", n, recs[0].counts)
	}
	_ = nodes[0].IO.ServerSideEmitWithAck("nobody", 1)(func([]any, error) {})
	if n := recs[0].get("request / serverSideEmit timeout"); n != 1 {
		t.Errorf("timed out serverSideEmit reported %d times; counts %v", n, recs[0].counts)
	}

	// Garbage on the request channel is undecodable.
	if err := srv.Client(t).Publish(siotest.Ctx(t), "socket.io-request#/#", "garbage").Err(); err != nil {
		t.Fatal(err)
	}
	siotest.Eventually(t, "the garbage counted as undecodable", func() bool {
		return recs[1].get("undecodable /") == 1 && recs[2].get("undecodable /") == 1
	})

	s := builders[0].Stats()
	if s.RequestLatency.Count != 3 {
		t.Errorf("RequestLatency.Count = %d, want 3", s.RequestLatency.Count)
	}
	// The two ack requests waited for their 1 s timeout.
	if s.RequestLatency.Max < time.Second || s.RequestLatency.Sum < 2*time.Second || s.RequestLatency.P99 < time.Second {
		t.Errorf("RequestLatency = %+v, want two requests of at least 1s", s.RequestLatency)
	}
	if s.PublishLatency.Count < broadcasts+3 || s.PublishLatency.Max <= 0 || s.PublishLatency.P50 <= 0 ||
		s.PublishLatency.P50 > s.PublishLatency.Max {
		t.Errorf("PublishLatency = %+v", s.PublishLatency)
	}
	if s.PublishLatency.Count != s.Published {
		t.Errorf("PublishLatency.Count = %d, Published = %d", s.PublishLatency.Count, s.Published)
	}
	if s.InboxDepth != 0 || s.PublishQueueDepth != 0 {
		t.Errorf("idle depths: inbox %d, publish queue %d", s.InboxDepth, s.PublishQueueDepth)
	}
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"inboxDepth", "publishQueueDepth", "publishLatency", "requestLatency"} {
		if _, ok := m[k]; !ok {
			t.Errorf("Stats JSON lacks %q: %s", k, b)
		}
	}
}

// TestObserverDrops checks that a full inbox and a full publish queue are
// reported with their reason, and that InboxDepth shows the backlog.
func TestObserverDrops(t *testing.T) {
	srv := redistest.Start(t)
	rec := newRecorder()
	b := redisadapter.New(srv.Client(t), redisadapter.WithObserver(rec), redisadapter.WithInboxSize(2),
		redisadapter.WithLogger(slog.New(slog.DiscardHandler)))
	n := siotest.StartNode(t, "slow", nil, b)
	if err := b.WaitHealthy(siotest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	blocked := make(chan struct{}, 1)
	n.IO.On("block", func(...any) {
		select {
		case blocked <- struct{}{}:
		default:
		}
		<-release
	})
	rdb := srv.Client(t)
	// A server-side emit from another "server" blocks the worker; two
	// more fill the inbox; the rest are dropped.
	payload := func(i int) string {
		return fmt.Sprintf(`{"uid":"other","type":6,"data":["block",%d]}`, i)
	}
	if err := rdb.Publish(siotest.Ctx(t), "socket.io-request#/#", payload(0)).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the server-side emit did not reach the handler")
	}
	for i := 1; i <= 5; i++ {
		if err := rdb.Publish(siotest.Ctx(t), "socket.io-request#/#", payload(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	siotest.Eventually(t, "the drops reported", func() bool {
		return rec.get("dropped / unknown inboxFull") == 4
	})
	if d := b.Stats().InboxDepth; d != 2 {
		t.Errorf("InboxDepth = %d while the worker is blocked, want 2", d)
	}
	close(release)
	siotest.Eventually(t, "the inbox drained", func() bool { return b.Stats().InboxDepth == 0 })
	if got := rec.get("received / serverSideEmit"); got != 2 {
		t.Errorf("received %d server-side emits, want 2 (the one that blocked and the one queued)", got)
	}
}
