package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/redistest"
)

// TestSentinelSetFailsOver starts a master, a replica and three Sentinels,
// and checks that a planned failover and a frozen master both promote the
// other server, and that a failover client follows.
func TestSentinelSetFailsOver(t *testing.T) {
	s := redistest.StartSentinelSet(t, 1, 3)
	first := s.Master(t)
	rdb := redis.NewFailoverClient(s.FailoverOptions())
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	second := s.Failover(t)
	if second == first {
		t.Fatalf("planned failover kept %s", first)
	}
	// A Sentinel down does not stop the others from failing over a
	// frozen master.
	s.KillSentinel(t, 0)
	s.Freeze(t, second)
	third := s.WaitMasterNot(t, second)
	if third != first {
		t.Fatalf("master after freezing %s is %s, want %s", second, third, first)
	}
	s.Thaw(t, second)
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := rdb.Set(ctx, "k", "w", 0).Err()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("failover client never reached the new master: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFreezeAndThaw checks that a frozen server accepts connections but
// answers nothing until it is thawed.
func TestFreezeAndThaw(t *testing.T) {
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.ReadTimeout = 300 * time.Millisecond
	opts.MaxRetries = -1
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Freeze(t)
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Fatal("a frozen server answered")
	}
	srv.Thaw(t)
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("thawed server: %v", err)
	}
}
