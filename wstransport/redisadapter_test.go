package wstransport_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
	"github.com/zishang520/engine.io/v2/types"
	client "github.com/zishang520/socket.io-client-go/socket"
)

// TestRedisAdapterBurst: with wstransport installed, redisadapter hands one
// shared packet buffer to every WebSocket connection and a private view to
// long-polling ones. A burst emitted on one node reaches WebSocket clients
// on both nodes whole and in order, and a long-polling client whole.
func TestRedisAdapterBurst(t *testing.T) {
	srv := redistest.Start(t)
	start := func(name string) *siotest.Node {
		rdb := redis.NewClient(srv.Options())
		return siotest.StartNode(t, name, rdb, redisadapter.New(rdb))
	}
	n1, n2 := start("n1"), start("n2")
	local := rawDialURL(t, n1.URL, "siotest:ready")
	remote := rawDialURL(t, n2.URL, "siotest:ready")
	polling := dialWith(t, n2.URL, "siotest:ready", func(o *client.Options) {
		o.SetTransports(types.NewSet(client.Polling))
	})
	const n = 300
	got := make(chan float64, n)
	polling.S.On("tick", func(args ...any) { got <- args[0].(float64) })

	for i := 0; i < n; i++ {
		n1.IO.To("r").Emit("tick", i)
	}
	for name, c := range map[string]*rawClient{"local": local, "remote": remote} {
		for i := 0; i < n; i++ {
			if msg, want := c.next(), fmt.Sprintf(`42["tick",%d]`, i); msg != want {
				t.Fatalf("%s client, frame %d: got %q, want %q", name, i, msg, want)
			}
		}
	}
	seen := map[int]bool{}
	timeout := time.After(10 * time.Second)
	for len(seen) < n {
		select {
		case v := <-got:
			if seen[int(v)] {
				t.Fatalf("polling client got %v twice", v)
			}
			seen[int(v)] = true
		case <-timeout:
			t.Fatalf("polling client got %d of %d broadcasts", len(seen), n)
		}
	}
}
