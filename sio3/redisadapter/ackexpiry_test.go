package redisadapter_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// TestRemoteAckClosuresExpire: the acknowledgement closures a broadcast
// with acks from another server registers on a client that never answers
// expire with the request's timeout (core's AckExpiry, shared with the v2
// binding) instead of living as long as the connection.
func TestRemoteAckClosuresExpire(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name string
		mk   func(redis.UniversalClient, ...redisadapter.Option) *redisadapter.Builder
	}{{"classic", redisadapter.New}, {"sharded", redisadapter.NewSharded}} {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
			a := siotest.StartNode(t, "a", ra, tc.mk(ra))
			b := siotest.StartNode(t, "b", rb, tc.mk(rb))
			silent := b.Dial(t, "/", nil, "ask") // records, never acknowledges
			s, ok := b.IO.Of("/", nil).Sockets().Load(socket.SocketId(silent.ID()))
			if !ok {
				t.Fatal("socket not found")
			}
			const sent = 3
			for i := 0; i < sent; i++ {
				done := make(chan error, 1)
				a.IO.Timeout(500*time.Millisecond).EmitWithAck("ask", i)(func(_ []any, err error) { done <- err })
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("EmitWithAck did not time out")
				}
			}
			silent.ExpectExactly("ask", sent)
			if n := s.Acks().Len(); n == 0 {
				t.Fatal("no ack closure registered (nothing to expire)")
			}
			// 500 ms + 1 s of slack.
			siotest.Eventually(t, "ack closures expired", func() bool { return s.Acks().Len() == 0 })
		})
	}
}
