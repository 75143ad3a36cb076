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

// TestRemoteAckClosuresExpire: a client that never acknowledges used to
// keep one closure per broadcast with ack received from another server for
// as long as it stayed connected. They now expire with the request's
// timeout.
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
