package redisadapter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestInboxByteBudget: while a namespace's worker is busy, large messages
// beyond the inbox's byte budget are dropped and counted instead of
// queueing (ten 15 MiB messages used to hold 184 MiB), and a message over
// the 16 MiB decode limit is dropped before it is copied.
func TestInboxByteBudget(t *testing.T) {
	srv := redistest.Start(t)
	r0, r1 := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
	b0 := redisadapter.New(r0, redisadapter.WithInboxBytes(2<<20))
	n0 := siotest.StartNode(t, "n0", r0, b0)
	n1 := siotest.StartNode(t, "n1", r1, redisadapter.New(r1))

	// Over 16 MiB: dropped as oversized, not decoded.
	before := b0.Stats()
	huge := strings.Repeat("y", protocol.MaxMessageSize+1)
	if err := srv.Client(t).Publish(siotest.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/"), huge).Err(); err != nil {
		t.Fatal(err)
	}
	siotest.Eventually(t, "oversized message dropped", func() bool {
		return b0.Stats().InboxBytesDropped == before.InboxBytesDropped+1
	})
	if b0.Stats().DecodeErrors != before.DecodeErrors {
		t.Fatal("the oversized message reached a decoder")
	}

	block, blocked := make(chan struct{}), make(chan struct{})
	n0.IO.On("block", func(...any) { close(blocked); <-block })
	if err := n1.IO.ServerSideEmit("block"); err != nil {
		t.Fatal(err)
	}
	<-blocked
	before = b0.Stats()
	big := strings.Repeat("x", 512<<10)
	const sent = 12
	for i := 0; i < sent; i++ {
		n1.IO.Emit("big", big)
	}
	// At most 2 MiB of 512 KiB messages fit: 3 (each carries some framing).
	siotest.Eventually(t, "drops counted", func() bool { return b0.Stats().InboxBytesDropped-before.InboxBytesDropped >= sent-4 })
	close(block)
	st := b0.Stats()
	if d := st.InboxBytesDropped - before.InboxBytesDropped; d > sent-3 || st.Dropped-before.Dropped < d {
		t.Fatalf("InboxBytesDropped grew by %d, Dropped by %d: want %d..%d, Dropped counting them too",
			d, st.Dropped-before.Dropped, sent-4, sent-3)
	}
}

// TestPublishQueueByteBudget: while Redis does not answer, broadcasts
// beyond the publish queue's byte budget are dropped and counted (1000
// broadcasts of 256 KiB used to hold 262 MiB).
func TestPublishQueueByteBudget(t *testing.T) {
	srv := redistest.Start(t)
	// Long timeouts: no send may give up (and free its bytes) while the
	// broadcasts are queued.
	o := srv.Options()
	o.ReadTimeout, o.WriteTimeout = time.Minute, time.Minute
	rdb := redis.NewClient(o)
	b := redisadapter.New(rdb, redisadapter.WithPublishQueueBytes(4<<20), redisadapter.WithRequestsTimeout(time.Minute))
	n := siotest.StartNode(t, "n", rdb, b)
	srv.Freeze(t)
	defer srv.Thaw(t)
	big := strings.Repeat("z", 256<<10)
	const sent = 200
	for i := 0; i < sent; i++ {
		n.IO.Emit("big", big)
	}
	// 4 MiB hold at most 15 of them (queued or being sent).
	if d := b.Stats().PublishDropped; d < sent-16 {
		t.Fatalf("PublishDropped = %d of %d broadcasts, want at least %d", d, sent, sent-16)
	}
}
