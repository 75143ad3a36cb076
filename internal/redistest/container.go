package redistest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// containerImage is the image of the Docker fallback.
const containerImage = "redis:7.2-alpine"

// redisPort is the port Redis listens on inside the container.
const redisPort = "6379/tcp"

var (
	dockerOnce sync.Once
	dockerErr  error
)

// dockerUsable reports (once per process, within a few seconds) whether a
// Docker engine answers; nil means it does.
func dockerUsable() error {
	dockerOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				dockerErr = fmt.Errorf("docker: %v", r)
			}
		}()
		p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
		if err != nil {
			dockerErr = err
			return
		}
		defer p.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dockerErr = p.Health(ctx)
	})
	return dockerErr
}

// dockerRedis is a Redis container.
type dockerRedis struct {
	ctr       *testcontainers.DockerContainer
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
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(tclog.TestLogger(t)),
		testcontainers.WithCmd("redis-server", "--save", "", "--appendonly", "no"),
		testcontainers.WithExposedPorts(redisPort),
	}
	d := &dockerRedis{}
	if local := dockerIsLocal(ctx); local {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		d.fixedAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		opts = append(opts, testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort(redisPort): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(port)}},
			}
		}))
	}
	ctr, err := testcontainers.Run(ctx, containerImage, opts...)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		return nil, err
	}
	d.ctr = ctr
	if err := d.waitUp(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// dockerIsLocal reports whether the engine's published ports are reachable
// on this machine's loopback.
func dockerIsLocal(ctx context.Context) bool {
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		return false
	}
	defer p.Close()
	host, err := p.DaemonHost(ctx)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// waitUp finds the container's address and waits until Redis answers.
func (d *dockerRedis) waitUp(ctx context.Context) error {
	a := d.fixedAddr
	if a == "" {
		host, err := d.ctr.Host(ctx)
		if err != nil {
			return err
		}
		port, err := d.ctr.MappedPort(ctx, redisPort)
		if err != nil {
			return err
		}
		a = net.JoinHostPort(host, strconv.Itoa(int(port.Num())))
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
	if err := d.ctr.Start(ctx); err != nil {
		return err
	}
	return d.waitUp(ctx)
}

func (d *dockerRedis) stop(kill bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	timeout := stopTimeout
	if kill {
		timeout = 0
	}
	_ = d.ctr.Stop(ctx, &timeout)
	d.mu.Lock()
	d.up = false
	d.mu.Unlock()
}

func (d *dockerRedis) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.up
}
