package sioredisprom

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sioredis/sioredis"
)

// DefaultMaxNamespaces is how many namespaces keep their own label by
// default; later ones are labelled "other".
const DefaultMaxNamespaces = 20

// DefaultBuckets are the latency histogram buckets, in seconds: from 100 µs
// (a publish on a local Redis) to 10 s (past the default 5 s request
// timeout).
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Options configures a Collector. The zero value is ready to use.
type Options struct {
	// Namespace is the prefix of the metric names. Default "sioredis".
	Namespace string
	// ConstLabels are added to every metric (e.g. {"host": "host-1"}).
	ConstLabels prometheus.Labels
	// NamespaceLabel maps a Socket.IO namespace to its label value. It must
	// return few distinct values. Default:
	// sioredis.BoundedNamespaces(DefaultMaxNamespaces).
	NamespaceLabel func(nsp string) string
	// Buckets are the latency histogram buckets in seconds. Default
	// DefaultBuckets.
	Buckets []float64
}

// Collector is a sioredis.Observer and a prometheus.Collector. Install it
// with redisadapter.WithObserver and register it with a
// prometheus.Registerer. Installed in several builders, it reports their
// sum.
type Collector struct {
	label func(string) string

	published, publishErrors, received, dropped, undecodable *prometheus.CounterVec
	publishDuration, requestDuration                         *prometheus.HistogramVec

	inboxDepth, publishQueueDepth, subscriptions, healthy, members *prometheus.Desc
	reconnects, connectFailures, healthCheckFailures               *prometheus.Desc

	mu            sync.Mutex
	sources       []func() sioredis.Stats
	memberSources []func() int
}

var (
	_ sioredis.Observer    = (*Collector)(nil)
	_ prometheus.Collector = (*Collector)(nil)
)

// New returns a Collector.
func New(o Options) *Collector {
	if o.Namespace == "" {
		o.Namespace = "sioredis"
	}
	if o.NamespaceLabel == nil {
		o.NamespaceLabel = sioredis.BoundedNamespaces(DefaultMaxNamespaces)
	}
	if len(o.Buckets) == 0 {
		o.Buckets = DefaultBuckets
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: o.Namespace, Name: name, Help: help, ConstLabels: o.ConstLabels,
		}, labels)
	}
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: o.Namespace, Name: name, Help: help, ConstLabels: o.ConstLabels, Buckets: o.Buckets,
		}, labels)
	}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(o.Namespace, "", name), help, nil, o.ConstLabels)
	}
	return &Collector{
		label: o.NamespaceLabel,
		published: counter("messages_published_total",
			"Messages Redis accepted (PUBLISH/SPUBLISH), by namespace and kind.", "namespace", "kind"),
		publishErrors: counter("publish_errors_total",
			"Messages Redis or the connection refused, by namespace and kind.", "namespace", "kind"),
		received: counter("messages_received_total",
			"Messages of other servers decoded and meant for this server, by namespace and kind.", "namespace", "kind"),
		dropped: counter("messages_dropped_total",
			"Messages dropped, by namespace, kind and reason (inboxFull, publishQueueFull, closing).", "namespace", "kind", "reason"),
		undecodable: counter("messages_undecodable_total",
			"Received messages that could not be decoded, by namespace.", "namespace"),
		publishDuration: histogram("publish_duration_seconds",
			"Time from queueing a message to Redis' reply, for accepted messages, by kind.", "kind"),
		requestDuration: histogram("request_duration_seconds",
			"Duration of cross-server requests, by namespace, kind and outcome (complete, partial, timeout, failed).",
			"namespace", "kind", "outcome"),
		inboxDepth: desc("inbox_depth_messages",
			"Received messages waiting for their namespace's worker."),
		publishQueueDepth: desc("publish_queue_depth_messages",
			"Messages waiting to be published."),
		subscriptions: desc("subscriptions",
			"Channels and patterns Redis confirmed and currently subscribed."),
		healthy: desc("healthy",
			"1 while every subscriber connection is up, proven and fully subscribed, else 0."),
		members: desc("members",
			"Servers of the cluster this server sees alive."),
		reconnects: desc("reconnects_total",
			"Subscriber connections re-established after a failure."),
		connectFailures: desc("connect_failures_total",
			"Failed attempts to establish a subscriber connection."),
		healthCheckFailures: desc("health_check_failures_total",
			"Subscriber connections dropped because Redis did not answer a health check in time."),
	}
}

// Attach implements sioredis.Observer: the builder's Stats are read at
// every scrape.
func (c *Collector) Attach(stats func() sioredis.Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sources = append(c.sources, stats)
}

// WatchMembers adds a source of the live members gauge (sioredis_members),
// e.g. one plus the servers of "/" in builder.Members() (redisadapter's
// membership lists the other Go servers, per namespace). Without one the
// gauge is not exported.
func (c *Collector) WatchMembers(count func() int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.memberSources = append(c.memberSources, count)
}

// Published implements sioredis.Observer.
func (c *Collector) Published(nsp, kind string, d time.Duration, err error) {
	if err != nil {
		c.publishErrors.WithLabelValues(c.label(nsp), kind).Inc()
		return
	}
	c.published.WithLabelValues(c.label(nsp), kind).Inc()
	c.publishDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// Received implements sioredis.Observer.
func (c *Collector) Received(nsp, kind string) {
	c.received.WithLabelValues(c.label(nsp), kind).Inc()
}

// Dropped implements sioredis.Observer.
func (c *Collector) Dropped(nsp, kind string, reason sioredis.DropReason) {
	c.dropped.WithLabelValues(c.label(nsp), kind, string(reason)).Inc()
}

// Undecodable implements sioredis.Observer.
func (c *Collector) Undecodable(nsp string) {
	c.undecodable.WithLabelValues(c.label(nsp)).Inc()
}

// RequestDone implements sioredis.Observer.
func (c *Collector) RequestDone(nsp, kind string, o sioredis.RequestOutcome, d time.Duration) {
	c.requestDuration.WithLabelValues(c.label(nsp), kind, string(o)).Observe(d.Seconds())
}

func (c *Collector) vecs() []prometheus.Collector {
	return []prometheus.Collector{c.published, c.publishErrors, c.received, c.dropped, c.undecodable,
		c.publishDuration, c.requestDuration}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range c.vecs() {
		v.Describe(ch)
	}
	for _, d := range []*prometheus.Desc{c.inboxDepth, c.publishQueueDepth, c.subscriptions, c.healthy,
		c.members, c.reconnects, c.connectFailures, c.healthCheckFailures} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.vecs() {
		v.Collect(ch)
	}
	c.mu.Lock()
	sources := append([]func() sioredis.Stats(nil), c.sources...)
	members := append([]func() int(nil), c.memberSources...)
	c.mu.Unlock()
	if len(sources) > 0 {
		var sum sioredis.Stats
		healthy := 1.0
		for _, f := range sources {
			s := f()
			sum.InboxDepth += s.InboxDepth
			sum.PublishQueueDepth += s.PublishQueueDepth
			sum.Subscriptions += s.Subscriptions
			sum.Reconnects += s.Reconnects
			sum.ConnectFailures += s.ConnectFailures
			sum.HealthCheckFailures += s.HealthCheckFailures
			if !s.Healthy {
				healthy = 0
			}
		}
		gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
		count := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
		}
		gauge(c.inboxDepth, float64(sum.InboxDepth))
		gauge(c.publishQueueDepth, float64(sum.PublishQueueDepth))
		gauge(c.subscriptions, float64(sum.Subscriptions))
		gauge(c.healthy, healthy)
		count(c.reconnects, sum.Reconnects)
		count(c.connectFailures, sum.ConnectFailures)
		count(c.healthCheckFailures, sum.HealthCheckFailures)
	}
	if len(members) > 0 {
		n := 0
		for _, f := range members {
			n += f()
		}
		ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(n))
	}
}
