package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/examples/multi-host/chat"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/redisadapter"
)

// faultHost is a chat host in the test process that a test can kill (it
// stops answering at once, as a crashed process does) or cut off from Redis
// (it keeps serving HTTP, but its adapter is down and /healthz says 503).
type faultHost struct {
	name string
	url  string
	host *chat.Host
	ln   *connTracker
	link *connTracker
}

// startFaultHost runs a chat host on a loopback port, its Redis connections
// dialed through a link the test can cut, and returns once it is subscribed.
func startFaultHost(t *testing.T, rs *redistest.Server, name, key string, logs io.Writer) *faultHost {
	t.Helper()
	link := &connTracker{}
	opts := rs.Options()
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if link.isCut() {
			return nil, errLinkCut
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return link.track(c), nil
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	logger := slog.New(slog.NewTextHandler(logs, nil))
	h, err := chat.New(chat.Config{
		Name:            name,
		Redis:           rdb,
		Logger:          logger,
		PresenceTimeout: time.Second,
		AdapterOptions:  []redisadapter.Option{redisadapter.WithKey(key), redisadapter.WithLogger(logger)},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &connTracker{Listener: raw}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	fh := &faultHost{name: name, url: "http://" + raw.Addr().String(), host: h, ln: ln, link: link}
	t.Cleanup(func() {
		ln.cut()
		h.Close()
		_ = srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.WaitReady(ctx); err != nil {
		t.Fatalf("%s not ready: %v", name, err)
	}
	return fh
}

// kill closes the host's listener and every connection it accepted,
// WebSockets included: the balancer sees refused connections and resets,
// its clients lose their sessions. The host then leaves the cluster.
func (f *faultHost) kill() {
	f.ln.cut()
	f.host.Close()
}

// cutRedis breaks the host's Redis connections and refuses new ones, until
// the test ends.
func (f *faultHost) cutRedis() { f.link.cut() }

// readiness GETs the host's /healthz directly and returns the status code
// (0 when the request fails).
func (f *faultHost) readiness() int {
	resp, err := (&http.Client{Timeout: time.Second}).Get(f.url + "/healthz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

var errLinkCut = errors.New("test cut the link to Redis")

// connTracker remembers connections (those it accepts as a listener, or
// those given to track) so that cut can close them all; after cut, it
// accepts nothing more.
type connTracker struct {
	net.Listener // nil when it only tracks dialed connections
	mu           sync.Mutex
	conns        []net.Conn
	done         bool
}

func (c *connTracker) Accept() (net.Conn, error) {
	conn, err := c.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return c.track(conn), nil
}

func (c *connTracker) track(conn net.Conn) net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		conn.Close()
	} else {
		c.conns = append(c.conns, conn)
	}
	return conn
}

func (c *connTracker) isCut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

func (c *connTracker) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.done = true
	if c.Listener != nil {
		c.Listener.Close()
	}
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}
