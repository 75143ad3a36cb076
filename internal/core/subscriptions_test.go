package core

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/redistest"
)

// TestSubscriptionsAreCountedPerOwner: two owners of one channel (a
// namespace "/a#b" and room "b" of "/a" both map to P#/a#b#) each get
// every message, and the first to let go does not cut the other off. Run
// over both connection kinds (SUBSCRIBE and SSUBSCRIBE).
func TestSubscriptionsAreCountedPerOwner(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	log := newRateLog(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, tc := range []struct {
		name string
		kind subKind
		conn func(*counters) pubsubConn
		pub  func(ctx context.Context, ch string) error
		num  func(ctx context.Context, ch string) int64
	}{
		{"classic", kindChannel,
			func(c *counters) pubsubConn { return newSubscriber(clientLink(rdb, time.Second), c, log, nil) },
			func(ctx context.Context, ch string) error { return rdb.Publish(ctx, ch, "m").Err() },
			func(ctx context.Context, ch string) int64 { return rdb.PubSubNumSub(ctx, ch).Val()[ch] }},
		{"sharded", kindShard,
			func(c *counters) pubsubConn { return newShardSubscriber(rdb, time.Second, c, log) },
			func(ctx context.Context, ch string) error { return rdb.SPublish(ctx, ch, "m").Err() },
			func(ctx context.Context, ch string) int64 { return rdb.PubSubShardNumSub(ctx, ch).Val()[ch] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stats counters
			s := newSubscriptions(tc.conn(&stats))
			defer s.close()
			ch := "socket.io#/a#b#" + tc.name
			k := sub{tc.kind, ch}
			var gotA, gotB atomic.Int64
			ownerA, ownerB := new(int), new(int)
			if err := s.subscribe(ctx, ownerA, map[sub]handler{k: func(*redis.Message) { gotA.Add(1) }}); err != nil {
				t.Fatal(err)
			}
			if err := s.subscribe(ctx, ownerB, map[sub]handler{k: func(*redis.Message) { gotB.Add(1) }}); err != nil {
				t.Fatal(err)
			}
			if n := s.owners(k); n != 2 {
				t.Fatalf("owners = %d, want 2", n)
			}
			if err := tc.pub(ctx, ch); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "both owners got the message", func() bool { return gotA.Load() == 1 && gotB.Load() == 1 })
			if n := tc.num(ctx, ch); n != 1 {
				t.Fatalf("Redis counts %d subscriptions of %s, want one for both owners", n, ch)
			}
			// Owner A lets go (its namespace closed, its room emptied).
			s.unsubscribe(ctx, ownerA, []sub{k})
			s.unsubscribe(ctx, ownerA, []sub{k}) // twice: still only its own
			if err := tc.pub(ctx, ch); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "owner B still hears the channel", func() bool { return gotB.Load() == 2 })
			if gotA.Load() != 1 {
				t.Fatalf("owner A got %d messages after it unsubscribed", gotA.Load())
			}
			if n := tc.num(ctx, ch); n != 1 {
				t.Fatalf("Redis counts %d subscriptions after the first owner left, want 1", n)
			}
			s.unsubscribe(ctx, ownerB, []sub{k})
			waitFor(t, "the channel unsubscribed with its last owner", func() bool { return tc.num(ctx, ch) == 0 })
			if n := stats.subscriptions.Load(); n != 0 {
				t.Fatalf("Stats.Subscriptions = %d, want 0", n)
			}
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
