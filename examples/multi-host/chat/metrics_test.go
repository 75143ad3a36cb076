package chat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/examples/multi-host/internal/hosttest"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
)

// scrape GETs a host's /metrics and parses it with the Prometheus text
// parser.
func scrape(t *testing.T, hostURL string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(hostURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("/metrics Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// sample sums the samples of a family whose labels include the pairs (the
// sample count of a histogram); -1 when the family is missing.
func sample(fams map[string]*dto.MetricFamily, name string, pairs ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
	for _, m := range f.GetMetric() {
		ok := true
		for i := 0; i+1 < len(pairs); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				found = found || l.GetName() == pairs[i] && l.GetValue() == pairs[i+1]
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
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

// TestMetricsAfterTraffic scrapes real hosts' /metrics after real chat
// traffic and checks the values against what was sent.
func TestMetricsAfterTraffic(t *testing.T) {
	rs := redistest.Start(t)
	key := fmt.Sprintf("mh-metrics-%d", time.Now().UnixNano())
	var logs1 syncBuffer
	u1 := hosttest.Start(t, rs, "host-1", key, &logs1)
	u2 := hosttest.Start(t, rs, "host-2", key, nil)
	sender := siotest.Dial(t, u1, "/", url.Values{"name": {"sender"}}, events.Welcome)
	sender.Expect(events.Welcome)
	reader := siotest.Dial(t, u2, "/", url.Values{"name": {"reader"}}, events.Welcome, events.Chat)
	reader.Expect(events.Welcome)

	// Both hosts see each other through their heartbeats.
	siotest.Eventually(t, "2 live members on host-1", func() bool {
		return sample(scrape(t, u1), "sioredis_members", "host", "host-1") == 2
	})
	// The presence broadcasts of the connects settle (750 ms), then only
	// the chat moves broadcasts.
	time.Sleep(1500 * time.Millisecond)
	before1, before2 := scrape(t, u1), scrape(t, u2)
	const sent = 12
	for i := range sent {
		if ack := sender.Call(events.Chat, fmt.Sprint("m", i))[0].(map[string]any); ack["ok"] != true {
			t.Fatalf("ack %v", ack)
		}
	}
	reader.ExpectExactly(events.Chat, sent)
	after1, after2 := scrape(t, u1), scrape(t, u2)

	delta := func(b, a map[string]*dto.MetricFamily, name string, pairs ...string) float64 {
		return sample(a, name, pairs...) - sample(b, name, pairs...)
	}
	if d := delta(before1, after1, "sioredis_demo_chat_messages_total", "host", "host-1"); d != sent {
		t.Errorf("host-1 chat messages grew by %v, want %d", d, sent)
	}
	if d := delta(before1, after1, "sioredis_messages_published_total", "host", "host-1", "namespace", "/", "kind", "broadcast"); d != sent {
		t.Errorf("host-1 published %v broadcasts, want %d", d, sent)
	}
	if d := delta(before1, after1, "sioredis_publish_duration_seconds", "kind", "broadcast"); d != sent {
		t.Errorf("host-1 publish latency observed %v broadcasts, want %d", d, sent)
	}
	if d := delta(before2, after2, "sioredis_messages_received_total", "host", "host-2", "kind", "broadcast"); d != sent {
		t.Errorf("host-2 received %v broadcasts, want %d", d, sent)
	}
	for name, want := range map[string]float64{
		"sioredis_demo_clients":                 1,
		"sioredis_healthy":                      1,
		"sioredis_inbox_depth_messages":         0,
		"sioredis_publish_queue_depth_messages": 0,
		"sioredis_messages_dropped_total":       -1, // no drop: not even a series
	} {
		if got := sample(after1, name, "host", "host-1"); got != want {
			t.Errorf("host-1 %s = %v, want %v", name, got, want)
		}
	}
	// The presence counts asked the cluster and every host answered.
	if n := sample(after1, "sioredis_request_duration_seconds", "kind", "fetchSockets", "outcome", "complete"); n < 1 {
		t.Errorf("host-1 completed %v fetchSockets requests, want some", n)
	}

	// One log format: JSON lines with the host's attribute, the adapter's
	// and the connects included.
	lines := strings.Split(strings.TrimSpace(logs1.String()), "\n")
	connects := 0
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line not JSON: %q", l)
		}
		if m["host"] != "host-1" {
			t.Errorf("log line without host=host-1: %q", l)
		}
		if m["msg"] == "client connected" && m["name"] == "sender" {
			connects++
		}
	}
	if connects != 1 {
		t.Errorf("%d connect lines for sender, want 1:\n%s", connects, logs1.String())
	}
	sender.S.Disconnect()
	siotest.Eventually(t, "the disconnect logged", func() bool {
		return strings.Contains(logs1.String(), `"msg":"client disconnected"`)
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
