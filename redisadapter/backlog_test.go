package redisadapter_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// slowConn reads at most 16 KiB per Read and about perSecond bytes a
// second: a subscriber that cannot keep up (a server starved of CPU).
type slowConn struct {
	net.Conn
	perSecond int
}

func (c *slowConn) Read(p []byte) (int, error) {
	if len(p) > 16<<10 {
		p = p[:16<<10]
	}
	n, err := c.Conn.Read(p)
	time.Sleep(time.Duration(n) * time.Second / time.Duration(c.perSecond))
	return n, err
}

// TestBacklogIsNotAFrozenRedis: Redis answers a PING after the messages it
// queued before it, so a subscriber working through a backlog gets its PONG
// late while messages keep arriving. That is a live link: the health check
// must not drop it (dropping it loses every message queued behind).
func TestBacklogIsNotAFrozenRedis(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client(t)
	ctx := context.Background()
	// Redis would otherwise cut a subscriber this far behind itself.
	if err := admin.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 0 0 0").Err(); err != nil {
		t.Fatal(err)
	}
	opts := srv.Options()
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &slowConn{Conn: c, perSecond: 2 << 20}, nil
	}
	rdb := redis.NewClient(opts)
	const interval = 400 * time.Millisecond // the PONG is due within 200 ms
	b := redisadapter.New(rdb, redisadapter.WithHealthCheckInterval(interval))
	siotest.StartNode(t, "a", rdb, b)
	siotest.Eventually(t, "a healthy", b.Healthy)

	// 4 MiB of broadcasts to a room nobody is in: two seconds of reading
	// for the slow subscriber, with PINGs answered behind them.
	payload, err := protocol.EncodeEmitterBroadcast(&protocol.Broadcast{
		UID:    "emitter",
		Packet: protocol.Packet{Type: protocol.EventPacketType, Data: []any{"tick", string(make([]byte, 1000))}, Nsp: "/"},
		Opts:   protocol.Options{Rooms: []string{"nobody"}, Except: []string{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	channel := protocol.RoomChannel(protocol.DefaultPrefix, "/", "nobody")
	const count = 4 << 10
	before := b.Stats().Received
	pipe := admin.Pipeline()
	for i := 0; i < count; i++ {
		pipe.Publish(ctx, channel, payload)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for b.Stats().Received-before < count {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("received %d of %d", b.Stats().Received-before, count)
		}
		if !b.Healthy() {
			t.Fatalf("unhealthy while reading a backlog: %+v", b.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	if took < 2*interval {
		t.Fatalf("the backlog took %v to read: too fast to hold a PONG past its bound", took)
	}
	if st := b.Stats(); st.HealthCheckFailures != 0 || st.Reconnects != 0 {
		t.Fatalf("a live link was dropped: %d health-check failures, %d reconnects", st.HealthCheckFailures, st.Reconnects)
	}
	t.Logf("read %d messages in %v with the PONG due within %v", count, took.Round(time.Millisecond), interval/2)
}
