package redisadapter_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestRoomFilter: in sharded dynamic mode, rooms the filter refuses get no
// channel (a client joining thousands of user-named rooms cannot make the
// server hold thousands of subscriptions) and still receive broadcasts
// from servers and emitters that share the filter, through the namespace
// channel.
func TestRoomFilter(t *testing.T) {
	srv := redistest.Start(t)
	onlyPublic := func(room string) bool { return !strings.HasPrefix(room, "user:") }
	ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
	a := siotest.StartNode(t, "a", ra, redisadapter.NewSharded(ra, redisadapter.WithRoomFilter(onlyPublic)))
	bb := redisadapter.NewSharded(rb, redisadapter.WithRoomFilter(onlyPublic))
	b := siotest.StartNode(t, "b", rb, bb)
	cl := b.Dial(t, "/", nil, "dm", "news")
	for i := 0; i < 50; i++ {
		cl.Call("join", "user:"+strings.Repeat("x", i))
	}
	cl.Call("join", "lobby")
	lobby := protocol.RoomChannel(protocol.DefaultPrefix, "/", "lobby")
	ad := adapterOf(b, "/")
	siotest.Eventually(t, "lobby channel", func() bool { return slices.Contains(ad.ActiveRoomChannels(), lobby) })
	for _, ch := range ad.ActiveRoomChannels() {
		if strings.Contains(ch, "user:") {
			t.Fatalf("filtered room subscribed: %s", ch)
		}
	}
	if n := bb.Stats().RoomsFiltered; n < 50 {
		t.Fatalf("RoomsFiltered = %d, want >= 50", n)
	}
	a.IO.To("user:x").Emit("dm", 1)
	cl.Expect("dm")
	a.IO.To("lobby").Emit("news", 1)
	cl.Expect("news")
	em := emitter.New(srv.Client(t), emitter.WithSharded(true), emitter.WithRoomFilter(onlyPublic))
	if err := em.To("user:xx").Emit("dm", 2); err != nil {
		t.Fatal(err)
	}
	cl.Expect("dm")
}
