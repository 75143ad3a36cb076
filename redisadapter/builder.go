package redisadapter

import (
	"context"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/core"
)

// Builder creates one adapter per namespace of a socket.io server. It
// implements socket.AdapterConstructor; pass it to ServerOptions.SetAdapter.
//
// All namespaces of a builder share one subscriber connection and one
// publishing goroutine. They start with the first namespace and stop when
// the last namespace adapter is closed (io.Close closes them all), so a
// closed server leaves no goroutine behind. Use one Builder per server.
type Builder struct {
	hub *core.Hub
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
	return newBuilder(rdb, core.Classic, opts)
}

// NewSharded returns the sharded pub/sub adapter for Redis 7 (SPUBLISH,
// SSUBSCRIBE), wire-compatible with Node's createShardedAdapter from
// @socket.io/redis-adapter 8.3. With a *redis.ClusterClient each message
// only travels to the shard that owns its channel. It also works against a
// single Redis 7 node.
//
//	opts.SetAdapter(redisadapter.NewSharded(rdb, redisadapter.WithSubscriptionMode(redisadapter.DynamicMode)))
func NewSharded(rdb redis.UniversalClient, opts ...Option) *Builder {
	return newBuilder(rdb, core.Sharded, opts)
}

func newBuilder(rdb redis.UniversalClient, format core.Format, opts []Option) *Builder {
	return &Builder{hub: core.NewHub(rdb, format, core.Configure(opts))}
}

// New implements socket.AdapterConstructor. socket.io calls it once per
// namespace; it subscribes the namespace's channels and waits (at most the
// requests timeout) until Redis confirms them, so that a message published
// right after the server starts is not missed.
//
// A namespace whose name contains '#' gets socket.io's in-memory adapter
// instead (its sockets are served by this server only): its channels would
// be another namespace's room channels. It is counted in
// Stats.RefusedNamespaces and logged (see [ErrInvalidNamespace]). Dynamic
// namespaces named from user input should exclude '#' in their regexp.
func (b *Builder) New(nsp socket.Namespace) socket.Adapter {
	if err := b.hub.CheckNamespace(nsp.Name()); err != nil {
		return socket.NewAdapter(nsp)
	}
	return newAdapter(b, nsp)
}

// Stats returns a snapshot of the builder's counters.
func (b *Builder) Stats() Stats { return b.hub.Stats() }

// Healthy reports whether the server hears the cluster: every subscriber
// connection is up, answered its last health check (see
// [WithHealthCheckInterval]) and has every wanted subscription confirmed by
// Redis. It is false before the first namespace subscribed, while Redis is
// unreachable, refuses the credentials or a subscription, or does not answer,
// and after the server closed; use it as a readiness check.
func (b *Builder) Healthy() bool { return b.hub.Healthy() }

// Members lists the live Go servers of every open namespace, this one
// excluded, as their heartbeats announce them: one entry per server and
// namespace, by namespace then uid. Node servers do not heartbeat and are
// not listed.
func (b *Builder) Members() []Member { return b.hub.Members() }

// WaitHealthy blocks until [Builder.Healthy] holds or ctx is done.
func (b *Builder) WaitHealthy(ctx context.Context) error { return b.hub.WaitHealthy(ctx) }
