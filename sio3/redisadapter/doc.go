// Package redisadapter is a Redis adapter for socket.io v3 servers
// (github.com/zishang520/socket.io/servers/socket/v3 v3.0.6): every server
// of a deployment publishes its broadcasts and cluster
// requests to Redis and receives the others', so that an event emitted on one
// host reaches the clients of every host.
//
// It is the socket.io v3 binding of github.com/sioredis/sioredis, with the
// same API as the v2 binding (github.com/sioredis/sioredis/redisadapter) and
// the same core: v2, v3 and Node servers can share one cluster. (socket.io
// v2 and v3 cannot be linked into one binary, which is why this binding is a
// module of its own.)
//
// Three protocols are available, wire-compatible with Node's
// @socket.io/redis-adapter 8.3 and @socket.io/redis-streams-adapter 0.3.1,
// so Go and Node servers can share a cluster:
//
//   - [New]: the classic adapter (PUBLISH / PSUBSCRIBE, createAdapter in
//     Node), reachable by Node's @socket.io/redis-emitter and by this
//     module's emitter package;
//   - [NewSharded]: the sharded adapter for Redis 7 (SPUBLISH / SSUBSCRIBE,
//     createShardedAdapter in Node), which in a Redis Cluster sends each
//     message only to the shard that owns its channel.
//   - [NewStreams]: the Redis Streams adapter (XADD / XREAD, Node's
//     @socket.io/redis-streams-adapter), which survives a server's short
//     cut from Redis and supports socket.io's connection state recovery
//     across servers ([Adapter.RestoreSession]).
//
// # Usage
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	opts := socket.DefaultServerOptions()
//	opts.SetAdapter(redisadapter.New(rdb))
//	io := socket.NewServer(nil, opts)
//
// socket.io v3.0.6 creates one adapter per namespace through the
// [Builder]; all namespaces of a builder share one subscriber connection and
// one publisher goroutine. Set the adapter through the options, before the
// server accepts connections.
//
// # Features
//
// Everything socket.io routes through its adapter works across servers:
// broadcasts to all, to rooms, with except, with the volatile, compress and
// local flags, binary arguments; broadcasts with acknowledgements
// (io.Timeout(d).EmitWithAck); FetchSockets (id, handshake, rooms, data);
// SocketsJoin, SocketsLeave and DisconnectSockets; ServerSideEmit with and
// without acknowledgement; ServerCount. [Adapter.AllRooms] lists the rooms of
// every server (classic protocol only, as in Node).
//
// # Guarantees and limits
//
//   - Redis pub/sub is at-most-once: a message published while a server is
//     disconnected from Redis is lost for that server, and the pub/sub
//     adapters have no connection state recovery across servers (as with
//     Node's adapter); [NewStreams] has both.
//   - Order is kept per publisher and namespace on a single Redis node (one
//     publishing goroutine, one subscriber connection, one worker per
//     namespace). In a Redis Cluster order holds per channel only.
//   - Every cross-server call is bounded by the requests timeout
//     ([WithRequestsTimeout], 5 s by default) or by the flags' timeout:
//     FetchSockets, AllRooms and ServerSideEmit with ack return (or call
//     their ack) with the answers collected so far and an error wrapping
//     [ErrTimeout] when a server does not answer. The pending request is
//     removed in every case.
//   - Blocking calls: FetchSockets calls its callback before returning,
//     ServerSideEmit with an ack and broadcasts with acks return once every
//     answer arrived or the timeout expired (as the v2 binding does, so
//     that both behave alike).
//   - Broadcasts are published asynchronously, as in Node: Broadcast never
//     waits for Redis. When Redis is unreachable the message is lost, logged
//     (once per kind at Warn, then at Debug) and counted in
//     [Stats].PublishErrors; when Redis is slower than the emitters the
//     bounded publish queue drops and counts ([WithPublishQueueSize]).
//   - Received messages are applied by one worker per namespace through a
//     bounded inbox ([WithInboxSize]); overflow is dropped and counted.
//   - Undecodable or hostile messages are dropped, counted in
//     [Stats].DecodeErrors and logged; they never panic the server.
//   - After a Redis restart, failover or slot migration the adapter
//     resubscribes by itself; [Builder.Healthy] is false meanwhile.
//
// # Membership
//
// Go servers announce themselves per namespace with heartbeats
// ([WithHeartbeatInterval], 5 s) and a leave message on Close; one unheard
// for [WithHeartbeatTimeout] (10 s) is declared dead. A request waits for
// the live Go servers that announce its kind and, for the servers without
// heartbeat (Node), for as many answers as PUBSUB NUMSUB counts beyond the
// Go servers known; a dead or departed Go server is not waited for, even by
// a request already waiting. [Adapter.FetchSocketsContext],
// [Adapter.AllRoomsContext], [Adapter.ServerSideEmitWithAckContext],
// [Adapter.BroadcastWithAckContext] and [Adapter.ServerCountContext] take a
// context and return what arrived with a [PartialError] naming the servers
// that did not answer. [Builder.Members] lists the live Go servers;
// [WithMemberListener] is told about joins and departures.
//
// # Sharded mode and Go socket ids
//
// Node's dynamic mode treats rooms of exactly 20 characters as socket ids:
// it publishes to(socketId) on the namespace channel and subscribes no
// channel for them. Go socket ids have 24 characters, so a Node server sends
// to(goSocketId) on the room channel P#N#<id>#. In [DynamicMode] a Go server
// therefore subscribes the channel of each of its own socket ids (exactly
// like [DynamicPrivateMode] does for every socket). The cost is one sharded
// subscription per connected socket: one SSUBSCRIBE on connect and one
// SUNSUBSCRIBE on disconnect, sent asynchronously, and one channel per
// socket on the Redis shard. Use [StaticMode] to avoid it (every broadcast
// then travels on the namespace channel).
//
// # Observability
//
// [Builder.Stats] returns counters (see [sioredis.Stats]: published, publish
// errors and drops, received, dropped, decode errors, ignored, reconnects,
// health-check and connect failures, refused subscriptions, master
// switches, request timeouts, confirmed subscriptions) and health, to export
// with expvar, Prometheus or OpenTelemetry without this package depending
// on them (see the examples). [Builder.Healthy] is a readiness check: it is
// false while a subscriber connection is down, does not answer its health
// check ([WithHealthCheckInterval]) or misses a subscription Redis refused.
//
// # Security
//
// Anyone who can publish to the Redis channels controls the cluster: they
// can emit to every client, disconnect sockets and call server-side
// handlers. Protect Redis with ACLs and TLS (configured on the go-redis
// client) and a private network.
package redisadapter
