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
//	                  S2/S3/S3L/S4; use it for S2B/S5R/S6/S7 only.
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
// subscriptions are confirmed. It exits on SIGTERM/SIGINT.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on SIOREDIS_PPROF's listener (DefaultServeMux)
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sioredis/sioredis/internal/enginefix"
	"github.com/sioredis/sioredis/wstransport"
	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/redisadapter"
)

var nodeID = os.Getenv("NODE_ID")

// nowMs is the wall clock in Unix epoch milliseconds with sub-ms precision,
// the clock the harness's clients subtract payload t from.
func nowMs() float64 {
	return float64(time.Now().UnixNano()) / 1e6
}

func main() {
	if v := os.Getenv("SIOREDIS_MEMPROFILERATE"); v != "" {
		if rate, err := strconv.Atoi(v); err == nil {
			runtime.MemProfileRate = rate // before the server allocates
		}
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "[%s] fatal: %v\n", nodeID, err)
		os.Exit(1)
	}
}

func run() error {
	if nodeID == "" {
		nodeID = fmt.Sprintf("go-%d", os.Getpid())
	}
	// Quiet stderr: only warnings and errors (the adapter rate-limits its own).
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	port := os.Getenv("PORT")
	if port == "" {
		port = "0"
	}

	if v := os.Getenv("SIOREDIS_BLOCKPROFILE"); v != "" {
		rate, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("SIOREDIS_BLOCKPROFILE: %w", err)
		}
		runtime.SetBlockProfileRate(rate)
	}
	if addr := os.Getenv("SIOREDIS_PPROF"); addr != "" {
		pln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("SIOREDIS_PPROF: %w", err)
		}
		fmt.Fprintf(os.Stderr, "[%s] pprof: http://%s/debug/pprof/\n", nodeID, pln.Addr())
		go func() { _ = http.Serve(pln, nil) }() // DefaultServeMux: net/http/pprof only
	}

	opts := socket.DefaultServerOptions()
	opts.SetServeClient(false)
	// Engine.IO defaults as in Node (engine.io 6.6): set explicitly so that
	// the open packet says {"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}.
	opts.SetPingInterval(25_000 * time.Millisecond)
	opts.SetPingTimeout(20_000 * time.Millisecond)
	opts.SetMaxHttpBufferSize(1_000_000)
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

	var rdb *redis.Client
	var builder *redisadapter.Builder
	if u := os.Getenv("REDIS_URL"); u != "" && u != "none" {
		ropts, err := redis.ParseURL(u)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb = redis.NewClient(ropts)
		inbox := 65536
		if v := os.Getenv("SIOREDIS_INBOX"); v != "" {
			if inbox, err = strconv.Atoi(v); err != nil || inbox <= 0 {
				return fmt.Errorf("SIOREDIS_INBOX=%q: want a positive integer", v)
			}
		}
		aopts := []redisadapter.Option{redisadapter.WithKey("socket.io"), redisadapter.WithInboxSize(inbox)}
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

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	var handler http.Handler = io.ServeHandler(nil)
	if batched {
		handler = wstransport.Handler(handler)
	}
	mux.Handle("/socket.io/", handler)
	mux.HandleFunc("/", http.NotFound)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// HTTP/1.1 only (WebSocket upgrades need it).
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	srv.Protocols = &protocols
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "[%s] http: %v\n", nodeID, err)
			os.Exit(1)
		}
	}()

	if builder != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := builder.WaitHealthy(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("redis subscriber not healthy: %w", err)
		}
	}
	stopProfile := func() {}
	if prefix := os.Getenv("SIOREDIS_CPUPROFILE"); prefix != "" {
		f, err := os.Create(prefix + "-" + nodeID + ".pprof")
		if err != nil {
			return fmt.Errorf("SIOREDIS_CPUPROFILE: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("SIOREDIS_CPUPROFILE: %w", err)
		}
		stopProfile = func() { pprof.StopCPUProfile(); _ = f.Close() }
	}
	os.Stdout.WriteString("ready\n")
	_ = os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	stopProfile()
	done := make(chan struct{})
	go func() {
		io.Close(nil)
		_ = srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(1500 * time.Millisecond):
	}
	if rdb != nil {
		_ = rdb.Close()
	}
	os.Exit(0)
	return nil
}

// ack extracts the trailing acknowledgement callback of an event, if any.
func ack(args []any) (socket.Ack, []any) {
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(socket.Ack); ok {
			return a, args[:n-1]
		}
		if a, ok := args[n-1].(func([]any, error)); ok {
			return a, args[:n-1]
		}
	}
	return nil, args
}

func reply(a socket.Ack, v map[string]any) {
	if a == nil {
		return
	}
	v["node"] = nodeID
	a([]any{v}, nil)
}

func onConnection(io *socket.Server, s *socket.Socket) {
	s.On("join", func(args ...any) {
		a, rest := ack(args)
		room := "bench"
		if len(rest) > 0 {
			room = fmt.Sprint(rest[0])
		}
		s.Join(socket.Room(room)) // synchronous: effective before the ack
		reply(a, map[string]any{"ok": true})
	})
	s.On("ping", func(args ...any) {
		a, _ := ack(args)
		reply(a, map[string]any{"ok": true})
	})
	s.On("blast", func(args ...any) {
		a, rest := ack(args)
		var o map[string]any
		if len(rest) > 0 {
			o, _ = rest[0].(map[string]any)
		}
		// Off the socket's read goroutine: a long blast must not stall the
		// control socket (Node yields to its event loop every 64 emits).
		go blast(io, o, a)
	})
	s.On("fetch", func(args ...any) {
		a, rest := ack(args)
		var o map[string]any
		if len(rest) > 0 {
			o, _ = rest[0].(map[string]any)
		}
		go fetch(io, o, a)
	})
}

func num(o map[string]any, key string) float64 {
	switch v := o[key].(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return 0
}

func str(o map[string]any, key, def string) string {
	if v, ok := o[key].(string); ok && v != "" {
		return v
	}
	return def
}

var (
	padMu    sync.Mutex
	padCache = map[int]string{}
)

func pad(size int) string {
	padMu.Lock()
	defer padMu.Unlock()
	p, ok := padCache[size]
	if !ok {
		p = strings.Repeat("x", size)
		padCache[size] = p
	}
	return p
}

// blast emits count events through the adapter (io.To(room).Emit: local
// sockets directly, other nodes via Redis), paced at rate msg/s when rate >
// 0, then acks.
func blast(io *socket.Server, o map[string]any, a socket.Ack) {
	count := int(max(0, num(o, "count")))
	size := int(max(0, num(o, "size")))
	rate := num(o, "rate")
	room := socket.Room(str(o, "room", "bench"))
	event := str(o, "event", "tick")
	p := pad(size)
	start := time.Now()
	startMs := nowMs()
	seq := 0
	emitOne := func() {
		_ = io.To(room).Emit(event, map[string]any{"seq": seq, "t": nowMs(), "pad": p})
		seq++
	}
	if rate > 0 {
		for seq < count {
			due := min(count, int(math.Floor(float64(time.Since(start).Nanoseconds())/1e6*rate/1000))+1)
			for seq < due {
				emitOne()
			}
			if seq < count {
				time.Sleep(time.Millisecond)
			}
		}
	} else {
		for seq < count {
			emitOne()
		}
	}
	reply(a, map[string]any{"ok": true, "emitted": seq, "elapsedMs": nowMs() - startMs})
}

// fetch runs count sequential cluster-wide fetchSockets() calls.
func fetch(io *socket.Server, o map[string]any, a socket.Ack) {
	count := int(max(1, num(o, "count")))
	perCall := make([]any, 0, count)
	n := 0
	start := nowMs()
	for range count {
		t0 := nowMs()
		type result struct {
			n   int
			err error
		}
		ch := make(chan result, 1)
		io.FetchSockets()(func(s []*socket.RemoteSocket, err error) { ch <- result{len(s), err} })
		r := <-ch
		perCall = append(perCall, nowMs()-t0)
		if r.err != nil {
			reply(a, map[string]any{"ok": false, "error": r.err.Error(), "count": r.n})
			return
		}
		n = r.n
	}
	reply(a, map[string]any{"ok": true, "count": n, "elapsedMs": nowMs() - start, "perCallMs": perCall})
}
