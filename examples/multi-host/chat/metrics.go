package chat

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sioredis/sioredis/extra/sioredisprom"
)

// metrics is what a host serves on /metrics (Prometheus text format): the
// adapter's metrics (sioredisprom, sioredis_*) and the demo's own
// (sioredis_demo_*), each with the label host.
type metrics struct {
	reg     *prometheus.Registry
	adapter *sioredisprom.Collector
	clients prometheus.Gauge
	chats   prometheus.Counter
}

func newMetrics(h *Host) *metrics {
	labels := prometheus.Labels{"host": h.cfg.Name}
	m := &metrics{
		reg:     prometheus.NewRegistry(),
		adapter: sioredisprom.New(sioredisprom.Options{ConstLabels: labels}),
		clients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sioredis_demo_clients", Help: "Sockets connected to this host.", ConstLabels: labels,
		}),
		chats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sioredis_demo_chat_messages_total", Help: "Chat messages sent by this host's clients.", ConstLabels: labels,
		}),
	}
	m.reg.MustRegister(m.adapter, m.clients, m.chats)
	// The live members of "/": the other Go servers the adapter's
	// membership heartbeats announce (Builder.Members), and this one.
	m.adapter.WatchMembers(func() int {
		n := 1
		for _, mb := range h.builder.Members() {
			if mb.Namespace == "/" {
				n++
			}
		}
		return n
	})
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
