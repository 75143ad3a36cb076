// Package sioredisotel records the metrics of sioredis' Redis adapter with
// OpenTelemetry. It is a module of its own, so that the library does not
// require the OpenTelemetry API: a program that wants neither
// OpenTelemetry nor Prometheus pulls neither.
//
//	metrics, err := sioredisotel.New() // the global MeterProvider, or WithMeterProvider
//	builder := redisadapter.New(rdb, redisadapter.WithObserver(metrics))
//
// Metrics is a sioredis.Observer: counters and histograms are recorded as
// the adapter works; the gauges (queue depths, subscriptions, health) and
// the reconnect count are observed from the builder's Stats at each
// collection. The instrument names, units and attributes are listed in the
// repository's README under "Monitoring".
//
// The namespace attribute is bounded: by default the first 20 namespaces
// seen keep their name and every later one is "other"
// (sioredis.BoundedNamespaces); WithNamespaceLabel replaces the rule.
package sioredisotel

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sioredis/sioredis"
)

// ScopeName is the instrumentation scope of the meter.
const ScopeName = "github.com/sioredis/sioredis/extra/sioredisotel"

// DefaultMaxNamespaces is how many namespaces keep their own attribute
// value by default; later ones are "other".
const DefaultMaxNamespaces = 20

// Option configures New.
type Option func(*config)

type config struct {
	mp    metric.MeterProvider
	label func(string) string
	attrs []attribute.KeyValue
}

// WithMeterProvider sets the MeterProvider. Default: otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithNamespaceLabel sets the function that maps a Socket.IO namespace to
// its attribute value; it must return few distinct values. Default:
// sioredis.BoundedNamespaces(DefaultMaxNamespaces).
func WithNamespaceLabel(f func(nsp string) string) Option {
	return func(c *config) { c.label = f }
}

// WithAttributes adds attributes to every measurement (e.g. the host).
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, attrs...) }
}

// Metrics is a sioredis.Observer recording with OpenTelemetry. Install it
// with redisadapter.WithObserver; installed in several builders, it reports
// their sum.
type Metrics struct {
	label func(string) string
	attrs []attribute.KeyValue

	published, publishErrors, received, dropped, undecodable metric.Int64Counter
	publishDuration, requestDuration                         metric.Float64Histogram

	mu      sync.Mutex
	sources []func() sioredis.Stats
	members []func() int
}

var _ sioredis.Observer = (*Metrics)(nil)

// New creates the instruments.
func New(opts ...Option) (*Metrics, error) {
	c := config{}
	for _, o := range opts {
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.label == nil {
		c.label = sioredis.BoundedNamespaces(DefaultMaxNamespaces)
	}
	m := &Metrics{label: c.label, attrs: c.attrs}
	meter := c.mp.Meter(ScopeName)
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		i, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return i
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		i, err := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
		errs = append(errs, err)
		return i
	}
	m.published = counter("sioredis.messages.published", "{message}", "Messages Redis accepted (PUBLISH/SPUBLISH).")
	m.publishErrors = counter("sioredis.publish.errors", "{message}", "Messages Redis or the connection refused.")
	m.received = counter("sioredis.messages.received", "{message}", "Messages of other servers decoded and meant for this server.")
	m.dropped = counter("sioredis.messages.dropped", "{message}", "Messages dropped because a queue was full or the adapter was closing.")
	m.undecodable = counter("sioredis.messages.undecodable", "{message}", "Received messages that could not be decoded.")
	m.publishDuration = histogram("sioredis.publish.duration", "Time from queueing a message to Redis' reply, for accepted messages.")
	m.requestDuration = histogram("sioredis.request.duration", "Duration of cross-server requests, by outcome.")

	inbox, err := meter.Int64ObservableGauge("sioredis.inbox.depth", metric.WithUnit("{message}"),
		metric.WithDescription("Received messages waiting for their namespace's worker."))
	errs = append(errs, err)
	queue, err := meter.Int64ObservableGauge("sioredis.publish_queue.depth", metric.WithUnit("{message}"),
		metric.WithDescription("Messages waiting to be published."))
	errs = append(errs, err)
	subs, err := meter.Int64ObservableGauge("sioredis.subscriptions", metric.WithUnit("{subscription}"),
		metric.WithDescription("Channels and patterns Redis confirmed and currently subscribed."))
	errs = append(errs, err)
	healthy, err := meter.Int64ObservableGauge("sioredis.healthy", metric.WithUnit("1"),
		metric.WithDescription("1 while every subscriber connection is up, proven and fully subscribed, else 0."))
	errs = append(errs, err)
	reconnects, err := meter.Int64ObservableCounter("sioredis.reconnects", metric.WithUnit("{reconnect}"),
		metric.WithDescription("Subscriber connections re-established after a failure."))
	errs = append(errs, err)
	members, err := meter.Int64ObservableGauge("sioredis.members", metric.WithUnit("{server}"),
		metric.WithDescription("Servers of the cluster this server sees alive."))
	errs = append(errs, err)
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		m.mu.Lock()
		sources := append([]func() sioredis.Stats(nil), m.sources...)
		mems := append([]func() int(nil), m.members...)
		m.mu.Unlock()
		set := metric.WithAttributes(m.attrs...)
		if len(sources) > 0 {
			var sum sioredis.Stats
			up := int64(1)
			for _, f := range sources {
				s := f()
				sum.InboxDepth += s.InboxDepth
				sum.PublishQueueDepth += s.PublishQueueDepth
				sum.Subscriptions += s.Subscriptions
				sum.Reconnects += s.Reconnects
				if !s.Healthy {
					up = 0
				}
			}
			o.ObserveInt64(inbox, sum.InboxDepth, set)
			o.ObserveInt64(queue, sum.PublishQueueDepth, set)
			o.ObserveInt64(subs, sum.Subscriptions, set)
			o.ObserveInt64(healthy, up, set)
			o.ObserveInt64(reconnects, int64(sum.Reconnects), set)
		}
		if len(mems) > 0 {
			n := 0
			for _, f := range mems {
				n += f()
			}
			o.ObserveInt64(members, int64(n), set)
		}
		return nil
	}, inbox, queue, subs, healthy, reconnects, members)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Attach implements sioredis.Observer: the builder's Stats are observed at
// every collection.
func (m *Metrics) Attach(stats func() sioredis.Stats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources = append(m.sources, stats)
}

// WatchMembers adds a source of the live members gauge (sioredis.members),
// e.g. one plus the servers of "/" in builder.Members() (redisadapter's
// membership lists the other Go servers, per namespace). Without one the
// gauge is not observed.
func (m *Metrics) WatchMembers(count func() int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.members = append(m.members, count)
}

func (m *Metrics) with(kv ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributes(append(kv, m.attrs...)...)
}

// Published implements sioredis.Observer.
func (m *Metrics) Published(nsp, kind string, d time.Duration, err error) {
	ctx := context.Background()
	if err != nil {
		m.publishErrors.Add(ctx, 1, m.with(attribute.String("namespace", m.label(nsp)), attribute.String("kind", kind)))
		return
	}
	m.published.Add(ctx, 1, m.with(attribute.String("namespace", m.label(nsp)), attribute.String("kind", kind)))
	m.publishDuration.Record(ctx, d.Seconds(), m.with(attribute.String("kind", kind)))
}

// Received implements sioredis.Observer.
func (m *Metrics) Received(nsp, kind string) {
	m.received.Add(context.Background(), 1, m.with(attribute.String("namespace", m.label(nsp)), attribute.String("kind", kind)))
}

// Dropped implements sioredis.Observer.
func (m *Metrics) Dropped(nsp, kind string, reason sioredis.DropReason) {
	m.dropped.Add(context.Background(), 1, m.with(attribute.String("namespace", m.label(nsp)),
		attribute.String("kind", kind), attribute.String("reason", string(reason))))
}

// Undecodable implements sioredis.Observer.
func (m *Metrics) Undecodable(nsp string) {
	m.undecodable.Add(context.Background(), 1, m.with(attribute.String("namespace", m.label(nsp))))
}

// RequestDone implements sioredis.Observer.
func (m *Metrics) RequestDone(nsp, kind string, o sioredis.RequestOutcome, d time.Duration) {
	m.requestDuration.Record(context.Background(), d.Seconds(), m.with(attribute.String("namespace", m.label(nsp)),
		attribute.String("kind", kind), attribute.String("outcome", string(o))))
}
