package redisadapter_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// recorder is an Observer that counts its events by a readable key.
type recorder struct {
	mu       sync.Mutex
	counts   map[string]int
	attached int
	stats    func() sioredis.Stats
}

func (r *recorder) add(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[fmt.Sprintf(format, a...)]++
}

func (r *recorder) get(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[key]
}

func (r *recorder) Attach(stats func() sioredis.Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attached++
	r.stats = stats
}

func (r *recorder) Published(nsp, kind string, _ time.Duration, err error) {
	r.add("published %s %s err=%v", nsp, kind, err != nil)
}
func (r *recorder) Received(nsp, kind string) { r.add("received %s %s", nsp, kind) }
func (r *recorder) Dropped(nsp, kind string, reason sioredis.DropReason) {
	r.add("dropped %s %s %s", nsp, kind, reason)
}
func (r *recorder) Undecodable(nsp string) { r.add("undecodable %s", nsp) }
func (r *recorder) RequestDone(nsp, kind string, o sioredis.RequestOutcome, _ time.Duration) {
	r.add("request %s %s %s", nsp, kind, o)
}

// TestObserver: WithObserver, shared with the v2 binding, attaches the
// observer to the v3 builder and reports the broadcasts and requests of
// real traffic between two servers.
func TestObserver(t *testing.T) {
	srv := redistest.Start(t)
	recA, recB := &recorder{counts: map[string]int{}}, &recorder{counts: map[string]int{}}
	ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
	ba := redisadapter.New(ra, redisadapter.WithObserver(recA))
	bb := redisadapter.New(rb, redisadapter.WithObserver(recB))
	if recA.attached != 1 || recA.stats == nil {
		t.Fatalf("Attach called %d times", recA.attached)
	}
	a := siotest.StartNode(t, "a", ra, ba)
	b := siotest.StartNode(t, "b", rb, bb)
	for _, bl := range []*redisadapter.Builder{ba, bb} {
		if err := bl.WaitHealthy(siotest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if !recA.stats().Healthy {
		t.Fatal("the attached Stats function does not report a healthy builder")
	}
	c := b.Dial(t, "/", nil, "news")
	c.Call("join", "room1")

	const broadcasts = 3
	for i := range broadcasts {
		_ = a.IO.To("room1").Emit("news", i)
	}
	c.ExpectExactly("news", broadcasts)
	siotest.Eventually(t, "the broadcasts counted as published", func() bool {
		return recA.get("published / broadcast err=false") == broadcasts
	})
	siotest.Eventually(t, "the broadcasts counted as received", func() bool {
		return recB.get("received / broadcast") == broadcasts
	})

	var fetched []*socket.RemoteSocket
	a.IO.FetchSockets()(func(s []*socket.RemoteSocket, err error) {
		if err != nil {
			t.Error(err)
		}
		fetched = s
	})
	if len(fetched) != 1 {
		t.Fatalf("fetched %d sockets, want 1", len(fetched))
	}
	if n := recA.get("request / fetchSockets complete"); n != 1 {
		t.Errorf("fetchSockets complete reported %d times; counts %v", n, recA.counts)
	}
}
