package redisadapter_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestRecoveryOnCluster: connection state recovery with the streams
// adapter on a Redis Cluster (the session key and the stream on the
// masters their slots name; GET+DEL and the replay's reads per slot).
func TestRecoveryOnCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	var nodes []*siotest.Node
	var builders []*redisadapter.Builder
	for _, name := range []string{"a", "b"} {
		rdb := redis.NewClusterClient(c.Options())
		b := redisadapter.NewStreams(rdb, redisadapter.WithRequestsTimeout(2*time.Second))
		nodes = append(nodes, siotest.StartNodeWith(t, name, rdb, b, func(o *socket.ServerOptions) {
			csr := &socket.ConnectionStateRecovery{}
			csr.SetMaxDisconnectionDuration(5000)
			o.SetConnectionStateRecovery(csr)
		}))
		builders = append(builders, b)
	}
	a, b := nodes[0], nodes[1]
	rc := siotest.DialRaw(t, a.URL, "/", nil, true)
	rc.Call("join", "r")
	b.IO.To("r").Emit("tick", 0)
	ticks(t, rc.ExpectExactly("tick", 1), 0)
	pid, offset := rc.PID, rc.LastOffset()
	rc.Drop()
	// PersistSession queues the SET without waiting for it: wait for the
	// key itself.
	siotest.SessionStored(t, c.Client(t), pid)

	const missed = 100
	for i := 1; i <= missed; i++ {
		nodes[i%2].IO.To("r").Emit("tick", i)
	}
	back := siotest.DialRawWith(t, b.URL, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": pid, "offset": offset}}, false)
	if back.ID != rc.ID {
		t.Fatalf("came back as %s, want the recovered %s", back.ID, rc.ID)
	}
	ticks(t, back.ExpectExactly("tick", missed), 1)
	a.IO.To("r").Emit("tick", missed+1)
	ticks(t, back.ExpectExactly("tick", missed+1), 1)
	if s := builders[1].Stats(); s.SessionsRestored != 1 {
		t.Fatalf("SessionsRestored = %d", s.SessionsRestored)
	}
}
