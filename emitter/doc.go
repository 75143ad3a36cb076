// Package emitter sends Socket.IO events and commands to a cluster of
// Socket.IO servers through Redis, from a process that serves no clients
// itself: a cron job, a worker, a CLI.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	e := emitter.New(rdb)
//
//	// every client of the namespace "/"
//	err := e.Emit("news", "hello")
//	// clients in room1 but not in room2, of the namespace "/admin"
//	err = e.Of("/admin").To("room1").Except("room2").Emit("alert", map[string]any{"level": 2})
//	// make every client of room1 join room2, on every server
//	err = e.In("room1").SocketsJoin("room2")
//	// run the io.On("reload", ...) handlers of every server
//	err = e.ServerSideEmit("reload", 42)
//
// # Compatibility
//
// By default the emitter speaks the classic format of Node's
// @socket.io/redis-emitter 5.1, byte for byte: it reaches servers running
// the classic adapter of this module (redisadapter.New) and Node servers
// running @socket.io/redis-adapter's createAdapter, with the same key
// prefix ([WithKey]).
//
// With [WithSharded] it speaks the sharded ClusterAdapter format instead
// (SPUBLISH, uid "emitter") and reaches servers running
// redisadapter.NewSharded or Node's createShardedAdapter, which Node's own
// emitter cannot. Give it the subscription mode of those servers with
// [WithSubscriptionMode]: single-room broadcasts are then published on the
// channel the servers listen on.
//
// # Operators
//
// [Emitter.Of], [Emitter.To], [Emitter.In], [Emitter.Except],
// [Emitter.Volatile] and [Emitter.Compress] never modify their receiver:
// each returns a new *Emitter. An *Emitter is immutable and safe to share
// between goroutines; keep one per target and reuse it.
//
// # No background work
//
// Every call is one PUBLISH (or SPUBLISH) on the caller's goroutine, whose
// Redis error is returned. The emitter starts no goroutine, subscribes to
// nothing and expects no answer, so a short-lived process can emit and exit.
// The Redis client stays owned by the caller. Acknowledgements, fetchSockets
// and server counts need answers and are therefore not supported.
package emitter
