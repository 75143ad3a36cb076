package redisadapter

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/core"
)

// NewStreams returns the Redis Streams adapter, wire-compatible with Node's
// @socket.io/redis-streams-adapter 0.3.1 and with the v2 binding's
// NewStreams: broadcasts and socket operations go through a Redis stream
// (XADD … MAXLEN ~, read with XREAD BLOCK), so a server cut from Redis for
// a while gets them once it is back, and socket.io's connection state
// recovery works across servers:
//
//	opts := socket.DefaultServerOptions()
//	opts.SetConnectionStateRecovery(&socket.ConnectionStateRecovery{})
//	opts.SetAdapter(redisadapter.NewStreams(rdb))
//	io := socket.NewServer(nil, opts)
//
// A client whose connection drops comes back, on any server, with its id,
// rooms and data, and gets every packet it missed, in order, once (see
// [Adapter.RestoreSession]). Broadcasts with acknowledgements, server-side
// emits and fetchSockets are ephemeral, over pub/sub, as in Node. rdb must
// be a *redis.Client (standalone or Sentinel failover) or a
// *redis.ClusterClient. See
// [github.com/sioredis/sioredis/redisadapter.NewStreams].
func NewStreams(rdb redis.UniversalClient, opts ...Option) *Builder {
	return newBuilder(rdb, core.Streams, opts)
}

// WithStreamName sets the stream key (Node's streamName), or its prefix
// when [WithStreamCount] is above 1. Default "socket.io". See
// [github.com/sioredis/sioredis/redisadapter.WithStreamName].
func WithStreamName(name string) Option { return core.WithStreamName(name) }

// WithStreamCount spreads the namespaces over n streams (Node's
// streamCount). Default 1. See
// [github.com/sioredis/sioredis/redisadapter.WithStreamCount].
func WithStreamCount(n int) Option { return core.WithStreamCount(n) }

// WithMaxLen bounds the stream (Node's maxLen, XADD MAXLEN ~ n), and so how
// long a disconnected client can be recovered. Default 10000. See
// [github.com/sioredis/sioredis/redisadapter.WithMaxLen].
func WithMaxLen(n int64) Option { return core.WithMaxLen(n) }

// WithReadCount sets the XREAD COUNT (Node's readCount). Default 100.
func WithReadCount(n int64) Option { return core.WithReadCount(n) }

// WithBlockTime sets the XREAD BLOCK (Node's blockTimeInMs). Default 5 s.
// Closing a server does not wait for it.
func WithBlockTime(d time.Duration) Option { return core.WithBlockTime(d) }

// WithSessionKeyPrefix sets the prefix of the keys that hold sessions of
// connection state recovery (Node's sessionKeyPrefix). Default
// "sio:session:".
func WithSessionKeyPrefix(p string) Option { return core.WithSessionKeyPrefix(p) }

// WithOnlyPlaintext writes stream entries as JSON even when they hold
// binary (Node's onlyPlaintext). Default false.
func WithOnlyPlaintext(on bool) Option { return core.WithOnlyPlaintext(on) }

// WithMaxReplay bounds the missed packets one restored session collects in
// memory; a client that missed more connects fresh (socket.Recovered()
// false), counted in Stats.SessionsNotRestored. Default 10000. See
// [github.com/sioredis/sioredis/redisadapter.WithMaxReplay].
func WithMaxReplay(n int) Option { return core.WithMaxReplay(n) }

// WithMaxDisconnection is the session lifetime used when socket.io's
// MaxDisconnectionDuration is 0, which zishang520 v3.0.6, like v2.5.0,
// leaves it at when a custom adapter is set (Node applies its default, 2
// minutes). Default 2 minutes.
func WithMaxDisconnection(d time.Duration) Option { return core.WithMaxDisconnection(d) }
