// Command cron posts an announcement into the chat room of every host of the
// multi-host demo through Redis and exits (the "cron" command of
// examples/multi-host as a binary of its own, for containers and crontabs).
// It links go-redis and the emitter only.
//
//	REDIS_URL=redis://redis:6379 cron                 # once
//	REDIS_URL=redis://redis:6379 cron -every 30s      # keep posting
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sioredis/sioredis/examples/multi-host/announce"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := announce.Command(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, announce.ErrUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "cron:", err)
		os.Exit(1)
	}
}
