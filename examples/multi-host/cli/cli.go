// Package cli is the command line of the multi-host demo. One binary has
// every role, as a subcommand:
//
//	multi-host [all]      the whole topology on this machine: Redis (a private
//	                      redis-server unless REDIS_URL is set), 3 hosts, a
//	                      sticky load balancer on 127.0.0.1:8080 and the cron job
//	multi-host host       one socket.io host (HOST_NAME, LISTEN_ADDR, REDIS_URL)
//	multi-host cron       post one announcement and exit (-every 1m to loop)
//	multi-host balancer   the sticky load balancer alone
//	multi-host healthcheck  exit 0 when a host's /healthz answers 200
//
// cmd/host and cmd/cron build the host and cron roles as binaries of their
// own (used by the Dockerfile).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/examples/multi-host/announce"
	"github.com/sioredis/sioredis/examples/multi-host/balancer"
	"github.com/sioredis/sioredis/examples/multi-host/chat"
	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/examples/multi-host/internal/redisurl"
	"github.com/sioredis/sioredis/redisadapter"
)

const usage = `usage: multi-host [command] [flags]

commands:
  all          (default) run the whole demo on this machine: Redis, 3 hosts,
               the sticky load balancer on 127.0.0.1:8080 and the cron job
  host         run one socket.io host
  cron         post an announcement to every host's chat room and exit
               (-every 1m: keep posting)
  balancer     run the sticky load balancer in front of running hosts
  healthcheck  exit 0 if a host's /healthz answers 200 (for Docker)

Run "multi-host COMMAND -h" for the flags of a command. Give Redis
credentials through the environment (REDIS_URL, REDIS_PASSWORD), not flags:
every user of the machine sees flags in the process list.
`

// Main runs the command line args (without the program name) and returns
// the exit code. ctx is cancelled on Ctrl-C / SIGTERM by the caller.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "all"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "all":
		err = runAll(ctx, args, stdout, stderr, nil)
	case "host":
		err = runHost(ctx, args, stderr)
	case "cron":
		err = runCron(ctx, args, stderr)
	case "balancer":
		err = runBalancer(ctx, args, stdout, stderr)
	case "healthcheck":
		err = runHealthcheck(ctx, args, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "multi-host: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "multi-host %s: %v\n", cmd, err)
		return 1
	}
}

var errUsage = errors.New("usage")

// defaultListen is where the load balancer listens unless told otherwise:
// this machine only. A demo is not hardened for the network (-listen
// :8080 to share it on purpose).
const defaultListen = "127.0.0.1:8080"

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %q\n", fs.Args())
		return errUsage
	}
	return nil
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// newLogger is the one log format of every role: JSON lines (what log
// collectors parse), at Info.
func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func runHost(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("host", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hn, _ := os.Hostname()
	name := fs.String("name", env("HOST_NAME", hn), "host name shown to users (env HOST_NAME)")
	listen := fs.String("listen", env("LISTEN_ADDR", ":8080"), "listen address (env LISTEN_ADDR)")
	redisFlag := fs.String("redis", "", redisurl.FlagUsage)
	key := fs.String("key", env("REDIS_KEY", "socket.io"), "Redis channel prefix, the same for hosts and cron (env REDIS_KEY)")
	if err := parse(fs, args); err != nil {
		return err
	}
	redisURL := redisurl.Resolve(*redisFlag)
	base := newLogger(stderr)
	log := base.With("host", *name)
	opts, err := redisurl.Options(redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// chat adds the host attribute to its lines and the adapter's.
	h, err := chat.New(chat.Config{Name: *name, Redis: rdb, Logger: base,
		AdapterOptions: []redisadapter.Option{redisadapter.WithKey(*key)}})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("host listening", "addr", ln.Addr().String(), "redis", redisurl.Redact(redisURL), "healthy", h.Healthy())
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if h.WaitReady(wctx) == nil {
			log.Info("host ready: subscribed to Redis")
		} else if ctx.Err() == nil {
			log.Warn("host not ready after 30s: is Redis reachable?", "redis", redisurl.Redact(redisURL))
		}
	}()

	select {
	case <-ctx.Done():
	case err := <-served:
		h.Close()
		return err
	}
	log.Info("host shutting down")
	// Disconnecting the clients first ends pending long-polling requests,
	// so that Shutdown does not wait for them.
	h.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	return nil
}

func runCron(ctx context.Context, args []string, stderr io.Writer) error {
	err := announce.Command(ctx, args, stderr)
	if errors.Is(err, announce.ErrUsage) {
		return errUsage
	}
	return err
}

func runBalancer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("balancer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", defaultListen, "listen address (\":8080\": every interface)")
	backends := fs.String("backends", "http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083", "comma-separated host URLs")
	cookie := fs.String("cookie", events.StickyCookie, "cookie to hash on for stickiness")
	if err := parse(fs, args); err != nil {
		return err
	}
	log := newLogger(stderr)
	b, err := balancer.New(balancer.Config{Backends: strings.Split(*backends, ","), Cookie: *cookie, Logger: log})
	if err != nil {
		return err
	}
	defer b.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "balancer on %s → %s\n", browserURL(ln.Addr()), *backends)
	return serveUntil(ctx, ln, b)
}

// serveUntil serves h on ln until ctx is done.
func serveUntil(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		return nil
	case err := <-served:
		return err
	}
}

func runHealthcheck(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := "http://127.0.0.1:8080/healthz"
	if addr := os.Getenv("LISTEN_ADDR"); addr != "" {
		if _, port, err := net.SplitHostPort(addr); err == nil {
			def = "http://127.0.0.1:" + port + "/healthz"
		}
	}
	u := fs.String("url", def, "health URL (default from LISTEN_ADDR)")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", *u, resp.Status)
	}
	return nil
}

// browserURL turns a listener address into a URL to open.
func browserURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
