package sioredisprom_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/extra/sioredisprom"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

func TestMain(m *testing.M) { os.Exit(redistest.RunWithEnv(m, "REDIS_ADDR")) }

// TestScrape sends real traffic between two servers, scrapes the first
// one's /metrics over HTTP, parses it with the Prometheus text parser and
// checks the values against what was sent.
func TestScrape(t *testing.T) {
	srv := redistest.Start(t)
	metrics := sioredisprom.New(sioredisprom.Options{ConstLabels: prometheus.Labels{"host": "a"}})
	quiet := redisadapter.WithLogger(slog.New(slog.DiscardHandler))
	ba := redisadapter.New(srv.Client(t), redisadapter.WithObserver(metrics), quiet,
		redisadapter.WithRequestsTimeout(500*time.Millisecond))
	bb := redisadapter.New(srv.Client(t), quiet)
	a := siotest.StartNode(t, "a", nil, ba)
	b := siotest.StartNode(t, "b", nil, bb)
	metrics.WatchMembers(func() int { return 2 })
	for _, bl := range []*redisadapter.Builder{ba, bb} {
		if err := bl.WaitHealthy(siotest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics)
	web := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer web.Close()

	c := b.Dial(t, "/", nil, "news")
	c.Call("join", "room1")
	const sent = 7
	for i := range sent {
		a.IO.To("room1").Emit("news", i)
	}
	c.ExpectExactly("news", sent)
	// b broadcasts 3 to a's namespace: a receives them.
	for i := range 3 {
		b.IO.Emit("hello", i)
	}
	a.IO.FetchSockets()(func([]*socket.RemoteSocket, error) {})
	_ = a.IO.ServerSideEmitWithAck("nobody-answers")(func([]any, error) {})

	var fams map[string]*dto.MetricFamily
	siotest.Eventually(t, "the broadcasts of b received by a", func() bool {
		fams = scrape(t, web.URL)
		return value(fams, "sioredis_messages_received_total", "namespace", "/", "kind", "broadcast") == 3
	})
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"sioredis_messages_published_total", []string{"namespace", "/", "kind", "broadcast", "host", "a"}, sent},
		{"sioredis_messages_published_total", []string{"namespace", "/", "kind", "fetchSockets"}, 1},
		{"sioredis_messages_received_total", []string{"namespace", "/", "kind", "fetchSocketsResponse"}, 1},
		{"sioredis_request_duration_seconds", []string{"namespace", "/", "kind", "fetchSockets", "outcome", "complete"}, 1},
		{"sioredis_request_duration_seconds", []string{"namespace", "/", "kind", "serverSideEmit", "outcome", "timeout"}, 1},
		{"sioredis_publish_duration_seconds", []string{"kind", "broadcast"}, sent},
		{"sioredis_healthy", nil, 1},
		{"sioredis_subscriptions", nil, float64(ba.Stats().Subscriptions)}, // "/" and "/admin"
		{"sioredis_inbox_depth_messages", nil, 0},
		{"sioredis_publish_queue_depth_messages", nil, 0},
		{"sioredis_reconnects_total", nil, 0},
		{"sioredis_members", nil, 2},
	}
	for _, c := range checks {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if fams["sioredis_publish_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("publish duration is a %v", fams["sioredis_publish_duration_seconds"].GetType())
	}
	// The timed-out request lasted its 500 ms timeout.
	if sum := histSum(fams, "sioredis_request_duration_seconds", "outcome", "timeout"); sum < 0.5 {
		t.Errorf("timed-out request took %vs, want >= 0.5", sum)
	}
}

// TestBoundedNamespaces checks the namespace label rule: the first
// MaxNamespaces keep their name, later ones are "other".
func TestBoundedNamespaces(t *testing.T) {
	metrics := sioredisprom.New(sioredisprom.Options{})
	for i := range sioredisprom.DefaultMaxNamespaces + 5 {
		metrics.Received(fmt.Sprintf("/tenant-%d", i), "broadcast")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "sioredis_messages_received_total" {
			continue
		}
		if n := len(f.GetMetric()); n != sioredisprom.DefaultMaxNamespaces+1 {
			t.Errorf("%d series, want %d", n, sioredisprom.DefaultMaxNamespaces+1)
		}
		m := map[string]*dto.MetricFamily{f.GetName(): f}
		if v := value(m, f.GetName(), "namespace", "other"); v != 5 {
			t.Errorf(`"other" = %v, want 5`, v)
		}
		return
	}
	t.Fatal("no received metric")
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value sums the samples of a family whose labels include the pairs (the
// sample count for histograms); -1 when the family is missing.
func value(fams map[string]*dto.MetricFamily, name string, pairs ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
	for _, m := range matching(f, pairs) {
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func histSum(fams map[string]*dto.MetricFamily, name string, pairs ...string) float64 {
	var sum float64
	for _, m := range matching(fams[name], pairs) {
		sum += m.GetHistogram().GetSampleSum()
	}
	return sum
}

func matching(f *dto.MetricFamily, pairs []string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range f.GetMetric() {
		ok := true
		for i := 0; i+1 < len(pairs); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}
