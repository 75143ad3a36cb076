package announce

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/examples/multi-host/internal/redisurl"
)

// ErrUsage is returned by Command for bad flags (the flag package has
// already printed why).
var ErrUsage = errors.New("usage error")

// Command is the "cron" command line: flags -redis (env REDIS_URL), -key
// (env REDIS_KEY), -every, -message, -from. It lives here rather than in
// package cli so that the cron binary links only go-redis and the emitter,
// not the socket.io server.
func Command(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("cron", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", "", redisurl.FlagUsage)
	key := fs.String("key", env("REDIS_KEY", "socket.io"), "Redis channel prefix, the same for hosts and cron (env REDIS_KEY)")
	every := fs.Duration("every", 0, "post every interval instead of once (e.g. 1m); 0 = post once and exit")
	text := fs.String("message", "", "announcement text (default: a text with the time)")
	from := fs.String("from", "", `sender shown in the chat (default "cron@<hostname>")`)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %q\n", fs.Args())
		return ErrUsage
	}
	opts, err := redisurl.Options(redisurl.Resolve(*redisURL))
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("job", "cron")
	return Run(ctx, emitter.New(rdb, emitter.WithKey(*key)), Message{Text: *text, From: *from}, *every, log)
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
