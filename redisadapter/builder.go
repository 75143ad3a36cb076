package redisadapter

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"
)

// Builder creates one adapter per namespace of a socket.io server. It
// implements socket.AdapterConstructor; pass it to ServerOptions.SetAdapter.
//
// All namespaces of a builder share one subscriber connection and one
// publishing goroutine. They start with the first namespace and stop when
// the last namespace adapter is closed (io.Close closes them all), so a
// closed server leaves no goroutine behind. Use one Builder per server.
type Builder struct {
	rdb     redis.UniversalClient
	cfg     config
	sharded bool
	stats   counters
	log     *rateLog

	mu       sync.Mutex
	refs     int
	sub      *subscriber
	pub      *publisher
	shardSub *shardSubscriber
}

var _ socket.AdapterConstructor = (*Builder)(nil)

// New returns the classic Redis pub/sub adapter, wire-compatible with Node's
// @socket.io/redis-adapter 8.3 (createAdapter) and @socket.io/redis-emitter:
//
//	opts := socket.DefaultServerOptions()
//	opts.SetAdapter(redisadapter.New(rdb))
//	io := socket.NewServer(nil, opts)
//
// rdb may be a *redis.Client, a Sentinel failover client or a
// *redis.ClusterClient; it stays owned by the caller and must stay open until
// io.Close has returned.
func New(rdb redis.UniversalClient, opts ...Option) *Builder {
	b := &Builder{rdb: rdb, cfg: defaultConfig()}
	for _, o := range opts {
		o(&b.cfg)
	}
	b.log = newRateLog(b.cfg.logger)
	return b
}

// New implements socket.AdapterConstructor. socket.io calls it once per
// namespace; it subscribes the namespace's channels and waits (at most the
// requests timeout) until Redis confirms them, so that a message published
// right after the server starts is not missed.
func (b *Builder) New(nsp socket.Namespace) socket.Adapter {
	if b.sharded {
		return newShardedAdapter(b, nsp)
	}
	return newClassicAdapter(b, nsp)
}

// Stats returns a snapshot of the builder's counters.
func (b *Builder) Stats() Stats {
	s := b.stats.snapshot()
	s.Healthy = b.Healthy()
	return s
}

// Healthy reports whether the server hears the cluster: every subscriber
// connection is up, answered its last health check (see
// [WithHealthCheckInterval]) and has every wanted subscription confirmed by
// Redis. It is false before the first namespace subscribed, while Redis is
// unreachable, refuses the credentials or a subscription, or does not answer,
// and after the server closed; use it as a readiness check.
func (b *Builder) Healthy() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sub != nil {
		return b.sub.healthy()
	}
	if b.shardSub != nil {
		return b.shardSub.healthy()
	}
	return false
}

// WaitHealthy blocks until [Builder.Healthy] holds or ctx is done.
func (b *Builder) WaitHealthy(ctx context.Context) error {
	b.mu.Lock()
	sub, shardSub := b.sub, b.shardSub
	b.mu.Unlock()
	switch {
	case sub != nil:
		return sub.waitUp(ctx)
	case shardSub != nil:
		return shardSub.waitUp(ctx)
	}
	<-ctx.Done()
	return ctx.Err()
}

// shared are the connections a builder's namespaces share. An adapter keeps
// the pointers it got, so a request still running while the last namespace
// closes sees a closed publisher (ErrClosed), never a nil one.
type shared struct {
	pub      *publisher
	sub      *subscriber
	shardSub *shardSubscriber
}

// acquire starts the shared connection and publisher on first use.
func (b *Builder) acquire() shared {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refs++
	if b.refs == 1 {
		b.pub = newPublisher(b.rdb, b.cfg.publishQueueSize, b.cfg.requestsTimeout, &b.stats, b.log)
		if b.sharded {
			b.shardSub = newShardSubscriber(b.rdb, b.cfg.healthCheckInterval, &b.stats, b.log)
		} else {
			b.sub = newSubscriber(clientLink(b.rdb, b.cfg.healthCheckInterval), &b.stats, b.log, nil)
		}
	}
	return shared{pub: b.pub, sub: b.sub, shardSub: b.shardSub}
}

// release stops the shared resources when the last namespace closes.
func (b *Builder) release() {
	b.mu.Lock()
	b.refs--
	if b.refs > 0 {
		b.mu.Unlock()
		return
	}
	sub, shardSub, pub := b.sub, b.shardSub, b.pub
	b.sub, b.shardSub, b.pub = nil, nil, nil
	b.mu.Unlock()
	if pub != nil {
		pub.close()
	}
	if sub != nil {
		sub.close()
	}
	if shardSub != nil {
		shardSub.close()
	}
}
