// Command server is the socket.io v3 implementation of the benchmark
// harness's server contract (see bench/README.md and bench/harness/README.md
// at the repository root): a socket.io v3.0.6 server
// (github.com/zishang520/socket.io/servers/socket/v3) scaled with the sio3
// Redis adapter, the counterpart of bench/server (socket.io v2.5.0) and of
// the harness's Node reference servers/node-server.js.
//
// Environment:
//
//	PORT              listen port; the server binds 127.0.0.1:$PORT (HTTP/1.1, path /socket.io/)
//	REDIS_URL         redis://host:port -> Redis adapter (key prefix "socket.io");
//	                  empty, unset or "none" -> socket.io's in-memory adapter (single node)
//	NODE_ID           optional label, echoed in acks
//	SIOREDIS_ADAPTER  "classic" (default): redisadapter.New; "sharded":
//	                  redisadapter.NewSharded (as bench/server)
//	SIOREDIS_INBOX    the adapter's per-namespace inbox bound (WithInboxSize)
//	SIOREDIS_PPROF    optional host:port: serve net/http/pprof there
//	SIOREDIS_BLOCKPROFILE
//	                  optional runtime.SetBlockProfileRate (ns), for /debug/pprof/block
//	SIOREDIS_MEMPROFILERATE
//	                  optional runtime.MemProfileRate (1: every allocation)
//	SIOREDIS_CPUPROFILE
//	                  optional path prefix: write a CPU profile from "ready" to SIGTERM
//	                  to <prefix>-<NODE_ID>.pprof
//
// engine.io v3 is used with its own WebSocket transport: sioredis/wstransport
// is written against engine.io v2 and cannot be linked with v3.
//
// Client events (all with an ack): join(room), ping(), blast({count, size,
// rate?, room?, event?}), fetch({count}), as in the contract. The server
// prints "ready" on stdout once it listens and, with Redis, once its
// subscriptions are confirmed. It exits on SIGTERM/SIGINT. What does not
// depend on socket.io's version is internal/benchserver, shared with
// bench/server.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sioredis/sioredis/internal/benchserver"
	"github.com/sioredis/sioredis/sio3/redisadapter"
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
	opts.SetTransports(types.NewSet[transports.TransportCtor](&transports.PollingBuilder{}, &transports.WebSocketBuilder{}))

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
		default:
			return fmt.Errorf("SIOREDIS_ADAPTER=%q: want classic or sharded", mode)
		}
		opts.SetAdapter(builder)
	}

	// NewServer creates namespace "/", whose adapter subscribes and waits
	// (bounded by the requests timeout) for Redis to confirm.
	io := socket.NewServer(nil, opts)
	_ = io.On("connection", func(args ...any) {
		onConnection(io, args[0].(*socket.Socket))
	})

	srv, err := benchserver.Serve(io.ServeHandler(nil))
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
		_ = s.On(ev, h)
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
