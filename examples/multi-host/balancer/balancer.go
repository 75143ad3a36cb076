// Package balancer is a small sticky load balancer for socket.io hosts: the
// built-in stand-in for nginx.conf when the demo runs on one machine.
//
// It is a net/http/httputil.ReverseProxy (which forwards WebSocket upgrades)
// that picks a backend by hashing a cookie, so that every request of a
// browser, including the many requests of an HTTP long-polling session,
// reaches the host that holds the session. Requests without the cookie are
// spread round robin. Backends whose health URL fails are skipped until they
// recover; their clients then move to another host (and reconnect there).
package balancer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Balancer.
type Config struct {
	// Backends are the hosts' base URLs, e.g. http://127.0.0.1:8081.
	Backends []string
	// Cookie is the name of the cookie to hash on.
	Cookie string
	// HealthPath is polled on every backend to skip those that are down.
	// Default "/healthz".
	HealthPath string
	// HealthInterval is how often backends are checked. Default 1s.
	HealthInterval time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Balancer is an http.Handler proxying to the backends.
type Balancer struct {
	cfg      Config
	log      *slog.Logger
	backends []*backend
	rr       atomic.Uint64

	stop     chan struct{}
	done     sync.WaitGroup
	stopOnce sync.Once
}

type backend struct {
	url   *url.URL
	proxy *httputil.ReverseProxy
	up    atomic.Bool
}

// New returns a balancer and starts its health checks; Close stops them.
func New(cfg Config) (*Balancer, error) {
	if len(cfg.Backends) == 0 {
		return nil, errors.New("balancer: no backends")
	}
	if cfg.Cookie == "" {
		return nil, errors.New("balancer: no cookie name")
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HealthPath == "" {
		cfg.HealthPath = "/healthz"
	}
	b := &Balancer{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	for _, raw := range cfg.Backends {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("balancer: bad backend URL %q", raw)
		}
		be := &backend{url: u}
		be.up.Store(true)
		be.proxy = &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(u)
				r.SetXForwarded()
			},
			// Long-polling responses and server-sent data go out at once.
			FlushInterval: -1,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				if errors.Is(err, context.Canceled) {
					return
				}
				b.log.Warn("balancer: backend failed", "backend", u.String(), "path", r.URL.Path, "err", err)
				if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
					be.up.Store(false) // until the next health check says otherwise
				}
				http.Error(w, "backend unavailable", http.StatusBadGateway)
			},
		}
		b.backends = append(b.backends, be)
	}
	b.done.Add(1)
	go b.healthLoop()
	return b, nil
}

// Close stops the health checks. It does not close the connections being
// proxied: close the http.Server that serves the balancer.
func (b *Balancer) Close() {
	b.stopOnce.Do(func() { close(b.stop) })
	b.done.Wait()
}

// ServeHTTP proxies r to the backend its cookie hashes to, or the next one
// round robin when it has no cookie. Nothing in the response names the
// backend's address (the hosts say their name in the page and the welcome
// event).
//
// A request without the cookie gets one that hashes to the backend chosen
// for it, in the response and in the request passed on (so the host does
// not set another): the browser's next requests, its socket.io connection
// included, reach the host that served its first page. (A random cookie
// set by the host would map to any host: the page would say it was served
// by one host and its socket would connect to another.)
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, sticky := b.pick(r)
	if !sticky {
		v := cookieFor(i, len(b.backends))
		r.AddCookie(&http.Cookie{Name: b.cfg.Cookie, Value: v})
		http.SetCookie(w, &http.Cookie{Name: b.cfg.Cookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	b.backends[i].proxy.ServeHTTP(w, r)
}

// cookieFor returns a new random cookie value that Pick maps to backend i
// of n (n tries on average).
func cookieFor(i, n int) string {
	for {
		var buf [16]byte
		_, _ = rand.Read(buf[:])
		if v := hex.EncodeToString(buf[:]); Pick(v, n) == i {
			return v
		}
	}
}

// Pick returns the index of the backend a sticky cookie value maps to when
// every backend is up (n backends). It is exported for tests that want a
// client to land on a given host.
func Pick(cookie string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(cookie))
	return int(h.Sum32() % uint32(n))
}

// pick returns the index of the backend for r, and whether r carried the
// sticky cookie.
func (b *Balancer) pick(r *http.Request) (int, bool) {
	n := len(b.backends)
	var start int
	c, err := r.Cookie(b.cfg.Cookie)
	sticky := err == nil && c.Value != ""
	if sticky {
		start = Pick(c.Value, n)
	} else {
		start = int(b.rr.Add(1) % uint64(n))
	}
	// The first healthy backend from start on; if none is up, start anyway.
	for i := range n {
		if j := (start + i) % n; b.backends[j].up.Load() {
			return j, sticky
		}
	}
	return start, sticky
}

func (b *Balancer) healthLoop() {
	defer b.done.Done()
	client := &http.Client{Timeout: b.cfg.HealthInterval}
	t := time.NewTicker(b.cfg.HealthInterval)
	defer t.Stop()
	for {
		for _, be := range b.backends {
			up := b.check(client, be)
			if was := be.up.Swap(up); was != up {
				b.log.Info("balancer: backend health changed", "backend", be.url.String(), "up", up)
			}
		}
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
	}
}

func (b *Balancer) check(client *http.Client, be *backend) bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-b.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, be.url.JoinPath(b.cfg.HealthPath).String(), nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
