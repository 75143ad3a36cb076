package sioredisotel_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v2/socket"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sioredis/sioredis/extra/sioredisotel"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

func TestMain(m *testing.M) { os.Exit(redistest.RunWithEnv(m, "REDIS_ADDR")) }

// TestManualReader sends real traffic between two servers and reads the
// first one's instruments with the SDK's ManualReader, checking the values
// against what was sent.
func TestManualReader(t *testing.T) {
	srv := redistest.Start(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	metrics, err := sioredisotel.New(sioredisotel.WithMeterProvider(mp),
		sioredisotel.WithAttributes(attribute.String("host", "a")))
	if err != nil {
		t.Fatal(err)
	}
	metrics.WatchMembers(func() int { return 2 })
	quiet := redisadapter.WithLogger(slog.New(slog.DiscardHandler))
	ba := redisadapter.New(srv.Client(t), redisadapter.WithObserver(metrics), quiet,
		redisadapter.WithRequestsTimeout(500*time.Millisecond))
	bb := redisadapter.New(srv.Client(t), quiet)
	a := siotest.StartNode(t, "a", nil, ba)
	b := siotest.StartNode(t, "b", nil, bb)
	for _, bl := range []*redisadapter.Builder{ba, bb} {
		if err := bl.WaitHealthy(siotest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	c := b.Dial(t, "/", nil, "news")
	c.Call("join", "room1")
	const sent = 6
	for i := range sent {
		a.IO.To("room1").Emit("news", i)
	}
	c.ExpectExactly("news", sent)
	for i := range 4 {
		b.IO.Emit("hello", i)
	}
	a.IO.FetchSockets()(func([]*socket.RemoteSocket, error) {})
	_ = a.IO.ServerSideEmitWithAck("nobody-answers")(func([]any, error) {})

	var rm metricdata.ResourceMetrics
	siotest.Eventually(t, "the broadcasts of b received by a", func() bool {
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		return sum(rm, "sioredis.messages.received", "kind", "broadcast") == 4
	})
	checks := []struct {
		name  string
		attrs []string
		want  float64
	}{
		{"sioredis.messages.published", []string{"namespace", "/", "kind", "broadcast", "host", "a"}, sent},
		{"sioredis.messages.received", []string{"kind", "fetchSocketsResponse"}, 1},
		{"sioredis.publish.duration", []string{"kind", "broadcast"}, sent},
		{"sioredis.request.duration", []string{"kind", "fetchSockets", "outcome", "complete"}, 1},
		{"sioredis.request.duration", []string{"kind", "serverSideEmit", "outcome", "timeout"}, 1},
		{"sioredis.healthy", []string{"host", "a"}, 1},
		{"sioredis.subscriptions", nil, float64(ba.Stats().Subscriptions)},
		{"sioredis.inbox.depth", nil, 0},
		{"sioredis.publish_queue.depth", nil, 0},
		{"sioredis.reconnects", nil, 0},
		{"sioredis.members", nil, 2},
	}
	for _, c := range checks {
		if got := sum(rm, c.name, c.attrs...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.attrs, got, c.want)
		}
	}
	units := map[string]string{"sioredis.publish.duration": "s", "sioredis.messages.published": "{message}", "sioredis.healthy": "1"}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if u, ok := units[m.Name]; ok && m.Unit != u {
				t.Errorf("%s has unit %q, want %q", m.Name, m.Unit, u)
			}
			if m.Description == "" {
				t.Errorf("%s has no description", m.Name)
			}
		}
	}
}

// sum adds the data points of the named instrument whose attributes include
// the pairs (the count for histograms); -1 when it is missing.
func sum(rm metricdata.ResourceMetrics, name string, pairs ...string) float64 {
	match := func(set attribute.Set) bool {
		for i := 0; i+1 < len(pairs); i += 2 {
			v, ok := set.Value(attribute.Key(pairs[i]))
			if !ok || v.AsString() != pairs[i+1] {
				return false
			}
		}
		return true
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			var total float64
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					if match(p.Attributes) {
						total += float64(p.Value)
					}
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					if match(p.Attributes) {
						total += float64(p.Value)
					}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					if match(p.Attributes) {
						total += float64(p.Count)
					}
				}
			}
			return total
		}
	}
	return -1
}
