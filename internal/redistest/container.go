package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Docker fallback drives the docker command-line client rather than a
// Docker SDK, so that the library's module graph does not carry the SDK's
// dependencies (moby, OpenTelemetry, ...) to every user.

// containerImage is the image of the Docker fallback.
const containerImage = "redis:7.2-alpine"

// redisPort is the port Redis listens on inside the container.
const redisPort = "6379/tcp"

// containerLabel marks the containers this package starts, so that ones
// left behind by a killed test process can be found
// (docker ps -a --filter label=org.sioredis.redistest).
const containerLabel = "org.sioredis.redistest=1"

var (
	dockerOnce sync.Once
	dockerErr  error
)

// dockerUsable reports (once per process, within a few seconds) whether a
// Docker engine answers; nil means it does.
func dockerUsable() error {
	dockerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v, err := docker(ctx, "version", "--format", "{{.Server.Version}}")
		if err == nil && v == "" {
			err = errors.New("docker version: the engine reported no version")
		}
		dockerErr = err
	})
	return dockerErr
}

// docker runs the docker client and returns its trimmed standard output.
func docker(ctx context.Context, args ...string) (string, error) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// dockerRedis is a Redis container.
type dockerRedis struct {
	id        string
	host      string // where published ports are reachable
	fixedAddr string // host:port bound on 127.0.0.1, if the engine is local

	mu      sync.Mutex
	curAddr string
	up      bool
}

// startContainer starts a Redis container for the test and removes it when
// the test ends. With a local engine, the container's port is bound to a
// fixed free 127.0.0.1 port, so that it survives Restart; with a remote one
// Docker picks the port, which may then change on Restart.
func startContainer(t testing.TB) *dockerRedis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var lastErr error
	for range startAttempts {
		d, err := runContainer(ctx, t)
		if err == nil {
			return d
		}
		lastErr = err
	}
	t.Fatalf("redistest: start a Redis container: %v", lastErr)
	return nil
}

func runContainer(ctx context.Context, t testing.TB) (*dockerRedis, error) {
	host, local := dockerHost(ctx)
	d := &dockerRedis{host: host}
	publish := redisPort // a port Docker picks, on every interface of the engine's host
	if local {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		d.fixedAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		publish = d.fixedAddr + ":" + redisPort
	}
	id, err := docker(ctx, "run", "--detach", "--label", containerLabel, "--publish", publish,
		containerImage, "redis-server", "--save", "", "--appendonly", "no")
	if id != "" {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := docker(ctx, "rm", "--force", "--volumes", id); err != nil {
				t.Logf("redistest: remove container %s: %v", id, err)
			}
		})
	}
	if err != nil {
		return nil, err
	}
	d.id = id
	if err := d.waitUp(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// dockerHost returns the host on which the engine publishes ports and
// whether that is this machine's loopback (a unix socket, a named pipe, or
// a tcp:// endpoint on localhost).
func dockerHost(ctx context.Context) (host string, local bool) {
	ep, err := docker(ctx, "context", "inspect", "--format", "{{.Endpoints.docker.Host}}")
	if err != nil || ep == "" {
		return "127.0.0.1", true // the client's default: the local socket
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "127.0.0.1", true
	}
	switch u.Scheme {
	case "unix", "npipe":
		return "127.0.0.1", true
	}
	h := u.Hostname()
	if h == "localhost" {
		return "127.0.0.1", true
	}
	ip, err := netip.ParseAddr(h)
	return h, err == nil && ip.IsLoopback()
}

// waitUp finds the container's address and waits until Redis answers.
func (d *dockerRedis) waitUp(ctx context.Context) error {
	a := d.fixedAddr
	if a == "" {
		out, err := docker(ctx, "port", d.id, redisPort)
		if err != nil {
			return err
		}
		// One line per binding, e.g. "0.0.0.0:49153" and "[::]:49153".
		first, _, _ := strings.Cut(out, "\n")
		_, port, err := net.SplitHostPort(strings.TrimSpace(first))
		if err != nil {
			return fmt.Errorf("docker port %s: %q: %w", d.id, out, err)
		}
		a = net.JoinHostPort(d.host, port)
	}
	if err := waitServing(a, 0, readyTimeout, nil); err != nil {
		return fmt.Errorf("redis container on %s: %w", a, err)
	}
	d.mu.Lock()
	d.curAddr, d.up = a, true
	d.mu.Unlock()
	return nil
}

func (d *dockerRedis) addr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.curAddr
}

func (d *dockerRedis) start() error {
	if d.running() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := docker(ctx, "start", d.id); err != nil {
		return err
	}
	return d.waitUp(ctx)
}

func (d *dockerRedis) stop(kill bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if kill {
		_, _ = docker(ctx, "kill", d.id)
	} else {
		_, _ = docker(ctx, "stop", "--time", strconv.Itoa(int(stopTimeout/time.Second)), d.id)
	}
	d.mu.Lock()
	d.up = false
	d.mu.Unlock()
}

func (d *dockerRedis) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.up
}
