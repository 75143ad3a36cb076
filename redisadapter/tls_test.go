package redisadapter_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestTLS: servers and an emitter talk to Redis over TLS only (rediss://,
// a certificate the clients verify), in both formats.
func TestTLS(t *testing.T) {
	srv := redistest.StartTLS(t)
	plain := redis.NewClient(&redis.Options{Addr: srv.TLSAddr()})
	defer plain.Close()
	if err := plain.Ping(siotest.Ctx(t)).Err(); err == nil {
		t.Fatal("a plain-text client got an answer from the TLS port")
	}
	for _, tc := range []struct {
		name    string
		mk      func(redis.UniversalClient, ...redisadapter.Option) *redisadapter.Builder
		sharded bool
	}{{"classic", redisadapter.New, false}, {"sharded", redisadapter.NewSharded, true}} {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := redis.NewClient(srv.TLSOptions()), redis.NewClient(srv.TLSOptions())
			ba, bb := tc.mk(ra), tc.mk(rb)
			a := siotest.StartNode(t, "a", ra, ba)
			b := siotest.StartNode(t, "b", rb, bb)
			erdb := redis.NewClient(srv.TLSOptions())
			defer erdb.Close()
			exercise(t, a, b, emitter.New(erdb, emitter.WithSharded(tc.sharded)))
			if !ba.Healthy() || !bb.Healthy() {
				t.Fatal("not healthy over TLS")
			}
		})
	}
}
