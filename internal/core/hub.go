package core

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis"
)

// Format is a wire format: how messages are encoded and which channels
// carry them. [Classic] and [Sharded] are the two there are.
type Format interface {
	// connect opens the subscriber side of a hub.
	connect(h *Hub) pubsubConn
	// newWire returns the wire of one namespace adapter.
	newWire(a *Adapter) wire
}

// pubsubConn is the subscriber side of a hub: one pub/sub connection
// (classic) or one per Redis Cluster master (sharded).
type pubsubConn interface {
	subscribe(ctx context.Context, subs map[sub]handler) error
	unsubscribe(ctx context.Context, subs []sub)
	healthy() bool
	waitUp(ctx context.Context) error
	close()
}

// Hub is what every namespace of one server shares: the Redis client, the
// configuration, the counters, one publisher goroutine and the subscriber
// connection(s). The connections start with the first namespace and stop
// when the last one closed, so a closed server leaves no goroutine behind.
type Hub struct {
	rdb    redis.UniversalClient
	cfg    Config
	format Format
	stats  counters
	log    *rateLog
	obs    sioredis.Observer // never nil

	// adapters are the open namespace adapters (Members).
	amu      sync.Mutex
	adapters map[*Adapter]struct{}

	mu   sync.Mutex
	refs int
	pub  *publisher
	sub  *subscriptions
}

// NewHub returns the hub of one server. rdb stays owned by the caller.
func NewHub(rdb redis.UniversalClient, format Format, cfg Config) *Hub {
	h := &Hub{rdb: rdb, cfg: cfg, format: format, log: newRateLog(cfg.Logger), obs: cfg.Observer}
	if h.obs == nil {
		h.obs = nopObserver{}
	} else {
		h.obs.Attach(h.Stats)
	}
	return h
}

// Config returns the hub's configuration.
func (h *Hub) Config() Config { return h.cfg }

// Stats returns a snapshot of the hub's counters.
func (h *Hub) Stats() sioredis.Stats {
	s := h.stats.snapshot()
	s.Healthy = h.Healthy()
	h.mu.Lock()
	if h.pub != nil {
		s.PublishQueueDepth = int64(len(h.pub.queue))
	}
	h.mu.Unlock()
	h.amu.Lock()
	for a := range h.adapters {
		s.InboxDepth += int64(a.inbox.depth())
	}
	h.amu.Unlock()
	return s
}

// Healthy reports whether the subscriber connection is up. It is false
// before the first namespace subscribed, while Redis is unreachable, and
// after the server closed.
func (h *Hub) Healthy() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sub != nil && h.sub.healthy()
}

// WaitHealthy blocks until the subscriber connection is up or ctx is done.
func (h *Hub) WaitHealthy(ctx context.Context) error {
	h.mu.Lock()
	sub := h.sub
	h.mu.Unlock()
	if sub == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	return sub.waitUp(ctx)
}

// Members lists the live Go servers of every open namespace (one entry per
// server and namespace), this server excluded, by namespace then uid.
func (h *Hub) Members() []sioredis.Member {
	h.amu.Lock()
	as := make([]*Adapter, 0, len(h.adapters))
	for a := range h.adapters {
		as = append(as, a)
	}
	h.amu.Unlock()
	var out []sioredis.Member
	for _, a := range as {
		out = append(out, a.Members()...)
	}
	slices.SortStableFunc(out, func(x, y sioredis.Member) int { return strings.Compare(x.Namespace, y.Namespace) })
	return out
}

func (h *Hub) register(a *Adapter) {
	h.amu.Lock()
	defer h.amu.Unlock()
	if h.adapters == nil {
		h.adapters = map[*Adapter]struct{}{}
	}
	h.adapters[a] = struct{}{}
}

func (h *Hub) unregister(a *Adapter) {
	h.amu.Lock()
	defer h.amu.Unlock()
	delete(h.adapters, a)
}

// conns are the connections a namespace got from its hub. An adapter keeps
// the pointers it got, so a request still running while the last namespace
// closes sees a closed publisher (ErrClosed), never a nil one.
type conns struct {
	pub *publisher
	sub *subscriptions
}

// acquire starts the shared connections on first use.
func (h *Hub) acquire() conns {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refs++
	if h.refs == 1 {
		h.pub = newPublisher(h.rdb, h.cfg.PublishQueueSize, h.cfg.PublishQueueBytes, h.cfg.RequestsTimeout, &h.stats, h.log, h.obs)
		h.sub = newSubscriptions(h.format.connect(h))
	}
	return conns{pub: h.pub, sub: h.sub}
}

// release stops the shared connections when the last namespace closes.
func (h *Hub) release() {
	h.mu.Lock()
	h.refs--
	if h.refs > 0 {
		h.mu.Unlock()
		return
	}
	sub, pub := h.sub, h.pub
	h.sub, h.pub = nil, nil
	h.mu.Unlock()
	if pub != nil {
		pub.close()
	}
	if sub != nil {
		sub.close()
	}
}
