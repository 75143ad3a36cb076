package emitter_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/redistest"
)

// benchEmitter returns an emitter on a fresh redis-server, targeting one
// room with a typical small payload. Nobody subscribes, so the numbers
// measure the emitter and the PUBLISH round trip only.
func benchEmitter(b *testing.B) *emitter.Emitter {
	srv := redistest.Start(b)
	rdb := redis.NewClient(srv.Options())
	b.Cleanup(func() { _ = rdb.Close() })
	op := emitter.New(rdb).To("room1")
	if err := op.Emit("warm-up"); err != nil {
		b.Fatal(err)
	}
	return op
}

var benchArgs = []any{"hello", 42, map[string]any{"user": "bob", "n": 1.5}}

// BenchmarkEmit publishes sequentially from one goroutine: one Redis round
// trip per emit.
func BenchmarkEmit(b *testing.B) {
	op := benchEmitter(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := op.Emit("news", benchArgs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emits/s")
}

// BenchmarkEmitParallel shares one operator between 16×GOMAXPROCS
// goroutines (the work is I/O bound): the go-redis pool runs the PUBLISH
// round trips concurrently.
func BenchmarkEmitParallel(b *testing.B) {
	op := benchEmitter(b)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op.Emit("news", benchArgs...); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emits/s")
}
