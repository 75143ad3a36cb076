// Command host is one socket.io host of the multi-host demo (the "host"
// command of examples/multi-host as a binary of its own, for containers).
//
//	HOST_NAME=host-1 LISTEN_ADDR=:8080 REDIS_URL=redis://redis:6379 host
//	host healthcheck   # exit 0 when this host's /healthz answers 200
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sioredis/sioredis/examples/multi-host/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	args := append([]string{"host"}, os.Args[1:]...)
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		args = os.Args[1:]
	}
	code := cli.Main(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
