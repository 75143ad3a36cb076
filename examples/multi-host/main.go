// Command multi-host is a live demo of sioredis: several socket.io hosts
// behind a sticky load balancer share one chat room and one online counter
// through Redis, and a cron job posts into the room with the emitter.
//
//	go run ./examples/multi-host            # everything on this machine, open http://localhost:8080
//	go run ./examples/multi-host host -h    # one host
//	go run ./examples/multi-host cron       # post one announcement and exit
//
// See README.md in this directory and package cli for every command.
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
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
