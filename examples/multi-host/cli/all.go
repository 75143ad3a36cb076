package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/balancer"
	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/examples/multi-host/internal/redisurl"
)

// Topology is what "all" started, handed to AllOptions.OnReady.
type Topology struct {
	// URL is the load balancer's address, e.g. http://localhost:8080.
	URL string
	// Hosts are the hosts' own addresses, by name.
	Hosts map[string]string
	// RedisURL is the Redis everything uses.
	RedisURL string
	// RedisDir is the temporary directory of a redis-server "all" started
	// ("" when REDIS_URL was given); it is removed on exit.
	RedisDir string
	// PIDs are the child processes running now (Redis and the hosts).
	PIDs []int
	// HostPIDs are the hosts' processes, by name.
	HostPIDs map[string]int
}

// AllOptions are for embedding "all" in other programs and tests.
type AllOptions struct {
	// Self is the command that runs this program's subcommands (e.g.
	// []string{"/path/to/multi-host"}); default: os.Executable().
	Self []string
	// Env is added to the children's environment.
	Env []string
	// OnReady is called once everything is up.
	OnReady func(Topology)
}

// RunAll runs the "all" command with args; see Main.
func RunAll(ctx context.Context, args []string, stdout, stderr io.Writer, o *AllOptions) error {
	return runAll(ctx, args, stdout, stderr, o)
}

func runAll(ctx context.Context, args []string, stdout, stderr io.Writer, o *AllOptions) error {
	if o == nil {
		o = &AllOptions{}
	}
	fs := flag.NewFlagSet("all", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", defaultListen, "load balancer listen address (\":8080\": every interface)")
	hosts := fs.Int("hosts", 3, "number of hosts")
	hostPort := fs.Int("host-port", 8081, "port of the first host (the others follow); 0 = any free ports")
	every := fs.Duration("every", time.Minute, "run the cron job (a short-lived process) this often; 0 = never")
	restartAfter := fs.Duration("restart-after", 5*time.Second, "restart a host that exited after this long, as a supervisor would; 0 = never")
	redisURL := fs.String("redis", "", "Redis URL (default: env REDIS_URL, else start a private redis-server). "+
		"Prefer REDIS_URL and REDIS_PASSWORD for credentials: every user sees flags in the process list")
	key := fs.String("key", env("REDIS_KEY", "socket.io"), "Redis channel prefix (env REDIS_KEY)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *redisURL == "" {
		*redisURL = os.Getenv("REDIS_URL")
	}
	if *hosts < 1 {
		return errors.New("-hosts must be at least 1")
	}
	self := o.Self
	if len(self) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cannot find this program to start hosts: %w", err)
		}
		self = []string{exe}
	}
	out := &lockedWriter{w: stdout}
	say := func(format string, a ...any) { fmt.Fprintf(out, "[all] "+format+"\n", a...) }

	// Claim the listen addresses first, so that a busy port fails fast.
	lbLn, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("load balancer: %w (pick another with -listen)", err)
	}
	defer lbLn.Close()
	hostAddrs, err := hostAddresses(*hosts, *hostPort)
	if err != nil {
		return err
	}

	var children []*child
	var redisDir string
	defer func() {
		// Hosts (and a running cron job) first, together: they disconnect
		// their clients. Redis last, then its directory.
		var wg sync.WaitGroup
		for _, c := range children {
			if c.name != "redis" {
				wg.Add(1)
				go func() { defer wg.Done(); c.stop(5 * time.Second) }()
			}
		}
		wg.Wait()
		for _, c := range children {
			if c.name == "redis" {
				c.stop(5 * time.Second)
			}
		}
		if redisDir != "" {
			if err := os.RemoveAll(redisDir); err == nil {
				say("removed %s", redisDir)
			}
		}
		if len(children) > 0 {
			say("stopped")
		}
	}()
	top := Topology{Hosts: map[string]string{}}

	// Redis.
	if *redisURL == "" {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			return errors.New("no Redis: set REDIS_URL=redis://host:6379 (or -redis), or install redis-server " +
				"so that the demo can start a private one (Debian/Ubuntu: apt-get install -y redis-server; " +
				"macOS: brew install redis)")
		}
		dir, err := os.MkdirTemp("", "multi-host-redis-")
		if err != nil {
			return err
		}
		redisDir = dir
		port, err := freePort()
		if err != nil {
			return err
		}
		// Its log goes to a file: Redis warns at start about kernel
		// settings that do not matter for a demo.
		logFile := filepath.Join(dir, "redis.log")
		c, err := startChild("redis", []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--logfile", logFile}, nil, out)
		if err != nil {
			return fmt.Errorf("start redis-server: %w", err)
		}
		children = append(children, c)
		*redisURL = "redis://127.0.0.1:" + strconv.Itoa(port)
		if err := waitRedis(ctx, c, "127.0.0.1:"+strconv.Itoa(port)); err != nil {
			log, _ := os.ReadFile(logFile)
			return fmt.Errorf("%w; its log:\n%s", err, log)
		}
		top.RedisDir = dir
		say("started redis-server %s in %s (removed on exit)", *redisURL, dir)
	} else {
		say("using Redis at %s", redisurl.Redact(*redisURL))
	}
	top.RedisURL = *redisURL
	// The children get the URL, which may hold a password, through their
	// environment: their command lines are visible to every user.
	childEnv := append(append([]string{}, o.Env...), "REDIS_URL="+*redisURL)

	// Hosts.
	var backends []string
	hostArgv := map[string][]string{}
	for i, addr := range hostAddrs {
		name := fmt.Sprintf("host-%d", i+1)
		argv := append(append([]string{}, self...), "host", "-name", name, "-listen", addr, "-key", *key)
		hostArgv[name] = argv
		c, err := startChild(name, argv, childEnv, out)
		if err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		children = append(children, c)
		u := "http://" + addr
		backends = append(backends, u)
		top.Hosts[name] = u
	}
	for i, u := range backends {
		if err := waitHealthy(ctx, children[len(children)-len(backends)+i], u+"/healthz"); err != nil {
			return err
		}
	}

	// Load balancer.
	b, err := balancer.New(balancer.Config{Backends: backends, Cookie: events.StickyCookie, Logger: newLogger(prefixed(out, "[balancer] "))})
	if err != nil {
		return err
	}
	defer b.Close()
	lbCtx, stopLB := context.WithCancel(ctx)
	lbDone := make(chan error, 1)
	go func() { lbDone <- serveUntil(lbCtx, lbLn, b) }()
	defer func() { stopLB(); <-lbDone }()
	top.URL = browserURL(lbLn.Addr())

	top.HostPIDs = map[string]int{}
	for _, c := range children {
		top.PIDs = append(top.PIDs, c.cmd.Process.Pid)
		if hostArgv[c.name] != nil {
			top.HostPIDs[c.name] = c.cmd.Process.Pid
		}
	}
	say("the demo is up. Open %s in two browser windows (or a normal and a private one:", top.URL)
	say("  tabs of one browser share the sticky cookie, so they land on the same host).")
	for i := range backends {
		name := fmt.Sprintf("host-%d", i+1)
		say("  %s: %s", name, top.Hosts[name])
	}
	if *every > 0 {
		say("  the cron job posts an announcement every %s", *every)
	}
	say("Press Ctrl-C to stop everything.")
	if o.OnReady != nil {
		o.OnReady(top)
	}

	// Cron: a new short-lived process each time.
	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
	exited := make(chan *child, 64)
	watch := func(c *child) {
		go func() {
			<-c.done
			select {
			case exited <- c:
			case <-ctx.Done():
			}
		}()
	}
	for _, c := range children {
		watch(c)
	}
	restart := make(chan string, len(hostArgv))
	for {
		select {
		case <-ctx.Done():
			say("stopping")
			return nil
		case err := <-lbDone:
			lbDone <- err // for the deferred wait
			if ctx.Err() != nil || err == nil {
				say("stopping")
				return nil
			}
			return fmt.Errorf("load balancer: %w", err)
		case c := <-exited:
			if ctx.Err() == nil {
				say("%s exited unexpectedly (%v); the balancer routes around it", c.name, c.err)
				if c.name == "redis" {
					return errors.New("redis-server exited")
				}
				if *restartAfter > 0 && hostArgv[c.name] != nil {
					say("restarting %s in %s", c.name, *restartAfter)
					time.AfterFunc(*restartAfter, func() {
						select {
						case restart <- c.name:
						case <-ctx.Done():
						}
					})
				}
			}
		case name := <-restart:
			if ctx.Err() != nil {
				continue
			}
			c, err := startChild(name, hostArgv[name], childEnv, out)
			if err != nil {
				say("cannot restart %s: %v", name, err)
				continue
			}
			children = append(children, c)
			watch(c)
		case <-tick:
			argv := append(append([]string{}, self...), "cron", "-key", *key)
			c, err := startChild("cron", argv, childEnv, out)
			if err != nil {
				say("cannot start the cron job: %v", err)
				continue
			}
			select {
			case <-c.done:
			case <-time.After(15 * time.Second):
				c.stop(time.Second)
			case <-ctx.Done():
				c.stop(time.Second)
			}
		}
	}
}

// hostAddresses returns n loopback addresses from port first on (free ones
// with first == 0), checking that they are free.
func hostAddresses(n, first int) ([]string, error) {
	var out []string
	for i := range n {
		if first == 0 {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			out = append(out, "127.0.0.1:"+strconv.Itoa(p))
			continue
		}
		addr := "127.0.0.1:" + strconv.Itoa(first+i)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("host port %s is busy (%v): pick others with -host-port (0 = any free ports)", addr, err)
		}
		ln.Close()
		out = append(out, addr)
	}
	return out, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitRedis(ctx context.Context, c *child, addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write([]byte("PING\r\n"))
			buf := make([]byte, 16)
			n, _ := conn.Read(buf)
			conn.Close()
			if bytes.HasPrefix(buf[:n], []byte("+PONG")) {
				return nil
			}
		}
		if err := waitStep(ctx, c, deadline); err != nil {
			return fmt.Errorf("redis-server on %s: %w", addr, err)
		}
	}
}

func waitHealthy(ctx context.Context, c *child, u string) error {
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := waitStep(ctx, c, deadline); err != nil {
			return fmt.Errorf("%s (%s): %w", c.name, u, err)
		}
	}
}

func waitStep(ctx context.Context, c *child, deadline time.Time) error {
	if time.Now().After(deadline) {
		return errors.New("not ready in time")
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return fmt.Errorf("exited: %v", c.err)
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}

// child is a process "all" started and must stop.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startChild(name string, argv, env []string, out io.Writer) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = prefixed(out, "["+name+"] ")
	cmd.Stderr = cmd.Stdout
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// stop asks the process to end (SIGTERM), kills it after timeout, and waits.
func (c *child) stop(timeout time.Duration) {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixed returns a writer that writes each complete line to out with the
// prefix. Each line is one Write on out.
func prefixed(out io.Writer, prefix string) io.Writer {
	return &prefixWriter{out: out, prefix: prefix}
}

type prefixWriter struct {
	mu     sync.Mutex
	out    io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := p.prefix + strings.TrimRight(string(p.buf[:i]), "\r") + "\n"
		p.buf = p.buf[i+1:]
		if _, err := io.WriteString(p.out, line); err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}
