package benchserver

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on SIOREDIS_PPROF's listener (DefaultServeMux)
	"os"
	"runtime"
	"strconv"
	"time"
)

// NodeID labels the server in acks and on stderr: NODE_ID, else go-<pid>.
var NodeID = nodeID()

func nodeID() string {
	if id := os.Getenv("NODE_ID"); id != "" {
		return id
	}
	return fmt.Sprintf("go-%d", os.Getpid())
}

// NowMs is the wall clock in Unix epoch milliseconds with sub-ms
// precision, the clock the harness's clients subtract payload t from.
func NowMs() float64 {
	return float64(time.Now().UnixNano()) / 1e6
}

// The Engine.IO defaults of Node (engine.io 6.6), which the servers set
// explicitly so that the open packet says
// {"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}.
const (
	PingInterval = 25_000 * time.Millisecond
	PingTimeout  = 20_000 * time.Millisecond
	MaxPayload   = 1_000_000
)

// Main runs the server: run returns only on failure, which is printed
// before the process exits with status 1. SIOREDIS_MEMPROFILERATE is
// applied first, before the server allocates.
func Main(run func() error) {
	if v := os.Getenv("SIOREDIS_MEMPROFILERATE"); v != "" {
		if rate, err := strconv.Atoi(v); err == nil {
			runtime.MemProfileRate = rate
		}
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "[%s] fatal: %v\n", NodeID, err)
		os.Exit(1)
	}
}

// Setup quiets the default logger to warnings and errors (the adapter
// rate-limits its own) and starts what SIOREDIS_BLOCKPROFILE and
// SIOREDIS_PPROF ask for.
func Setup() error {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
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
		fmt.Fprintf(os.Stderr, "[%s] pprof: http://%s/debug/pprof/\n", NodeID, pln.Addr())
		go func() { _ = http.Serve(pln, nil) }() // DefaultServeMux: net/http/pprof only
	}
	return nil
}
