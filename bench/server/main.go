// Command server is the Go implementation of the benchmark harness's server
// contract (see bench/README.md and bench/harness/README.md): a
// socket.io server (github.com/zishang520/socket.io/v2) scaled with
// sioredis's Redis adapter, the counterpart of the harness's Node reference
// servers/node-server.js.
//
// Environment:
//
//	PORT              listen port; the server binds 127.0.0.1:$PORT (HTTP/1.1, path /socket.io/)
//	REDIS_URL         redis://host:port -> Redis adapter (key prefix "socket.io");
//	                  empty, unset or "none" -> socket.io's in-memory adapter (single node)
//	NODE_ID           optional label, echoed in acks
//	SIOREDIS_ADAPTER  "classic" (default): redisadapter.New, wire-compatible with
//	                  @socket.io/redis-adapter 8.3 and @socket.io/redis-emitter 5.1;
//	                  "sharded": redisadapter.NewSharded (SSUBSCRIBE/SPUBLISH, Node's
//	                  createShardedAdapter protocol). The harness's emitter publishes
//	                  classic broadcasts, so a sharded cluster receives nothing in
//	                  S2/S3/S3L/S4; use it for S2B/S5R/S6/S7 only;
//	                  "streams": redisadapter.NewStreams (Redis Streams, Node's
//	                  @socket.io/redis-streams-adapter 0.3.1 protocol); the harness's
//	                  publisher detects such a cluster and XADDs its broadcasts
//	SIOREDIS_CSR      with "streams": "1" turns socket.io's connection state recovery
//	                  on (every broadcast then waits for its XADD and carries its offset)
//	SIOREDIS_INBOX    the adapter's per-namespace inbox bound (WithInboxSize); the
//	                  library default (65536) holds S2's 5000-message burst (Node's
//	                  adapter buffers without bound)
//	SIOREDIS_WSTRANSPORT
//	                  "batched" (default): sioredis/wstransport, the loss-free WebSocket
//	                  transport that sends each flushed batch with one write(2);
//	                  "stock": engine.io v2.5.0's own transport (one write(2) per frame,
//	                  with the internal/enginefix workaround for its broadcast loss)
//	SIOREDIS_WS_INLINE=0
//	                  with "batched": wstransport.Options.NoInlineWrites (every batch
//	                  through a writer goroutine; the default writes a small batch to an
//	                  idle connection on the sending goroutine)
//	SIOREDIS_PPROF    optional host:port: serve net/http/pprof there (e.g. 127.0.0.1:6060);
//	                  port 0 picks a free port, printed on stderr ("pprof: http://...")
//	SIOREDIS_BLOCKPROFILE
//	                  optional runtime.SetBlockProfileRate (ns), for /debug/pprof/block
//	SIOREDIS_MEMPROFILERATE
//	                  optional runtime.MemProfileRate (1: every allocation), for an exact
//	                  heap census (bench/census.sh)
//	SIOREDIS_CPUPROFILE
//	                  optional path prefix: write a CPU profile from "ready" to SIGTERM
//	                  to <prefix>-<NODE_ID>.pprof
//	SIOREDIS_WS_PREENCODED=1
//	                  with the stock transport: disable the workaround for the engine.io
//	                  v2.5.0 broadcast bug (see internal/enginefix) and reproduce the
//	                  message loss
//
// Client events (all with an ack): join(room), ping(), blast({count, size,
// rate?, room?, event?}), fetch({count}), as in the contract. The server
// prints "ready" on stdout once it listens and, with Redis, once its
// subscriptions are confirmed. It exits on SIGTERM/SIGINT. What does not
// depend on socket.io's version is internal/benchserver, shared with
// sio3/bench/server.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/sioredis/sioredis/internal/benchserver"
	"github.com/sioredis/sioredis/internal/enginefix"
	"github.com/sioredis/sioredis/wstransport"
	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/redisadapter"
)

func main() { benchserver.Main(run) }

func run() error {
	if err := benchserver.Setup(); err != nil {
		return err
	}

	opts := socket.DefaultServerOptions()
	opts.SetServeClient(false)
	opts.SetPingInterval(benchserver.PingInterval)
	opts.SetPingTimeout(benchserver.PingTimeout)
	opts.SetMaxHttpBufferSize(benchserver.MaxPayload)
	// No permessage-deflate: with a nil config engine.io's websocket
	// Upgrader has EnableCompression=false and never accepts the extension
	// socket.io-client offers (Node's default is off too).
	opts.SetPerMessageDeflate(nil)
	opts.SetTransports(types.NewSet("polling", "websocket"))
	batched := true
	switch v := os.Getenv("SIOREDIS_WSTRANSPORT"); v {
	case "", "batched":
		// SIOREDIS_WS_INLINE=0: every batch through a writer goroutine
		// (the A/B of wstransport's inline writes).
		wstransport.InstallWith(wstransport.Options{NoInlineWrites: os.Getenv("SIOREDIS_WS_INLINE") == "0"})
	case "stock":
		batched = false
		if os.Getenv("SIOREDIS_WS_PREENCODED") != "1" {
			opts.SetParser(enginefix.Parser())
		}
	default:
		return fmt.Errorf("SIOREDIS_WSTRANSPORT=%q: want batched or stock", v)
	}

	rdb, inbox, err := benchserver.Redis()
	if err != nil {
		return err
	}
	var builder *redisadapter.Builder
	if rdb != nil {
		aopts := []redisadapter.Option{redisadapter.WithKey(benchserver.Key), redisadapter.WithInboxSize(inbox)}
		switch mode := os.Getenv("SIOREDIS_ADAPTER"); mode {
		case "", "classic":
			builder = redisadapter.New(rdb, aopts...)
		case "sharded":
			builder = redisadapter.NewSharded(rdb, aopts...)
		case "streams":
			builder = redisadapter.NewStreams(rdb, aopts...)
			if os.Getenv("SIOREDIS_CSR") == "1" {
				opts.SetConnectionStateRecovery(&socket.ConnectionStateRecovery{})
			}
		default:
			return fmt.Errorf("SIOREDIS_ADAPTER=%q: want classic, sharded or streams", mode)
		}
		opts.SetAdapter(builder)
	}

	// NewServer creates namespace "/", whose adapter subscribes and waits
	// (bounded by the requests timeout) for Redis to confirm.
	io := socket.NewServer(nil, opts)
	// The event handlers go on in a middleware, which runs before
	// socket.io answers the client's CONNECT: registered in a
	// "connection" listener (after the answer), an event the client sends
	// as soon as it is connected (the harness's join) races them and is
	// lost now and then, since socket.io (Go) reads the client's packets
	// concurrently (Node runs the listener before it reads on).
	io.Use(func(s *socket.Socket, next func(*socket.ExtendedError)) {
		onConnection(io, s)
		next(nil)
	})

	var handler http.Handler = io.ServeHandler(nil)
	if batched {
		handler = wstransport.Handler(handler)
	}
	srv, err := benchserver.Serve(handler)
	if err != nil {
		return err
	}
	var waitHealthy func(context.Context) error
	if builder != nil {
		waitHealthy = builder.WaitHealthy
	}
	return benchserver.Run(srv, waitHealthy, func() { io.Close(nil) }, rdb)
}

func onConnection(io *socket.Server, s *socket.Socket) {
	handlers := benchserver.Handlers[socket.Ack](
		func(room string) { s.Join(socket.Room(room)) },
		func(room, event string, payload map[string]any) { _ = io.To(socket.Room(room)).Emit(event, payload) },
		fetchSockets(io))
	for ev, h := range handlers {
		s.On(ev, h)
	}
}

// fetchSockets returns one cluster-wide fetchSockets() call, counting the
// sockets.
func fetchSockets(io *socket.Server) func() (int, error) {
	return func() (int, error) {
		type result struct {
			n   int
			err error
		}
		ch := make(chan result, 1)
		io.FetchSockets()(func(s []*socket.RemoteSocket, err error) { ch <- result{len(s), err} })
		r := <-ch
		return r.n, r.err
	}
}
