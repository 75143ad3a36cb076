package benchserver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Run waits (at most 20 s) until waitHealthy, the adapter's (nil without
// Redis), holds, prints "ready" on stdout and serves until SIGTERM or
// SIGINT, with SIOREDIS_CPUPROFILE's CPU profile over that time. It then
// closes the socket.io server (closeIO) and srv, waiting at most 1.5 s, and
// rdb, and exits with status 0.
func Run(srv *http.Server, waitHealthy func(context.Context) error, closeIO func(), rdb *redis.Client) error {
	if waitHealthy != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := waitHealthy(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("redis subscriber not healthy: %w", err)
		}
	}
	stopProfile := func() {}
	if prefix := os.Getenv("SIOREDIS_CPUPROFILE"); prefix != "" {
		f, err := os.Create(prefix + "-" + NodeID + ".pprof")
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
		closeIO()
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
