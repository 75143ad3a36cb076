// Package chat is one host of the multi-host demo: a socket.io server whose
// clients chat in one room and see how many users are online across every
// host, scaled out through Redis with redisadapter, plus the web page and the
// socket.io browser client it serves.
//
//	host, err := chat.New(chat.Config{Name: "host-1", Redis: rdb})
//	...
//	http.ListenAndServe(":8080", host) // page, /socket.io/, /healthz
//	...
//	host.Close()
package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/redisadapter"
	"github.com/sioredis/sioredis/wstransport"
)

const (
	maxNameRunes = 24
	maxTextRunes = 500
)

// Config configures a Host.
type Config struct {
	// Name is the host name shown to users (HOST_NAME). Required.
	Name string
	// Redis is the client the adapter uses; it stays owned by the caller and
	// must stay open until Close has returned. Required.
	Redis redis.UniversalClient
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// AdapterOptions are passed to redisadapter.New.
	AdapterOptions []redisadapter.Option
	// PresenceSettle is how long after the last connect or disconnect the
	// host broadcasts the online count a second time, to settle races
	// between hosts that counted at the same moment. Default 750ms.
	PresenceSettle time.Duration
	// PresenceTimeout bounds one cluster-wide count. Default 3s.
	PresenceTimeout time.Duration
	// PresenceInterval is the least time between two cluster-wide counts
	// of this host: clients asking for the presence more often share the
	// last count (each count asks every host of the cluster for its
	// sockets, so an unbounded rate would let one client load them all).
	// Default 1s.
	PresenceInterval time.Duration
	// HeartbeatInterval is how often the host tells the others its status
	// and sends its clients the live cluster view. Default 1s.
	HeartbeatInterval time.Duration
	// HostTimeout is how long a host stays in the view after its last
	// heartbeat. Default 3s.
	HostTimeout time.Duration
}

// Host is one socket.io server of the demo. It is an http.Handler serving
// the page (/), the socket.io browser client (/assets/socket.io.min.js), the
// socket.io endpoint (/socket.io/) and a readiness probe (/healthz).
type Host struct {
	cfg     Config
	log     *slog.Logger
	io      *socket.Server
	builder *redisadapter.Builder
	mux     *http.ServeMux

	kick      chan struct{}
	stop      chan struct{}
	loopDone  chan struct{}
	closeOnce sync.Once
	seq       atomic.Uint64

	// fetches counts cluster-wide FetchSockets calls in flight; Close waits
	// for them before closing the adapter under them.
	mu      sync.Mutex
	closed  bool
	fetches sync.WaitGroup

	counts presenceCache

	cluster   cluster
	beatDone  chan struct{}
	connected atomic.Int64
	metrics   *metrics
}

// presenceCache shares one cluster-wide count among the clients that ask
// within Config.PresenceInterval, and among those that ask while it runs.
type presenceCache struct {
	mu      sync.Mutex
	last    Presence
	lastErr error
	at      time.Time     // when last was taken; zero: never
	running chan struct{} // closed when the count in flight ends; nil: none
}

// ErrClosed is returned by Presence after Close.
var ErrClosed = errors.New("chat: host closed")

// New starts a host: the socket.io server with the Redis adapter and the
// presence loop. It does not listen: serve it with net/http.
func New(cfg Config) (*Host, error) {
	if cfg.Name == "" {
		return nil, errors.New("chat: Config.Name is required")
	}
	if cfg.Redis == nil {
		return nil, errors.New("chat: Config.Redis is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PresenceSettle <= 0 {
		cfg.PresenceSettle = 750 * time.Millisecond
	}
	if cfg.PresenceTimeout <= 0 {
		cfg.PresenceTimeout = 3 * time.Second
	}
	if cfg.PresenceInterval <= 0 {
		cfg.PresenceInterval = time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = time.Second
	}
	if cfg.HostTimeout <= 0 {
		cfg.HostTimeout = 3 * time.Second
	}
	h := &Host{
		cfg:      cfg,
		log:      cfg.Logger.With("host", cfg.Name),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
		beatDone: make(chan struct{}),
	}
	h.metrics = newMetrics(h)
	// The adapter logs with the host's attributes, in the host's format,
	// and reports to the host's /metrics.
	opts := append([]redisadapter.Option{redisadapter.WithLogger(h.log), redisadapter.WithObserver(h.metrics.adapter)},
		cfg.AdapterOptions...)
	h.builder = redisadapter.New(cfg.Redis, opts...)
	// Loss-free, batched WebSocket writes (process-wide; the first call
	// installs it, before this process serves anything).
	wstransport.Install()
	so := socket.DefaultServerOptions()
	so.SetAdapter(h.builder)
	h.io = socket.NewServer(nil, so)
	h.io.On("connection", func(args ...any) { h.onConnection(args[0].(*socket.Socket)) })
	h.io.On(events.HostStatus, h.onHostStatus)

	h.mux = http.NewServeMux()
	h.mux.Handle("/socket.io/", wstransport.Handler(h.io.ServeHandler(nil)))
	h.mux.HandleFunc("GET /healthz", h.serveReadyz)
	h.mux.HandleFunc("GET /readyz", h.serveReadyz)
	h.mux.HandleFunc("GET /livez", h.serveLivez)
	h.mux.Handle("GET /metrics", h.metrics.handler())
	h.mux.Handle("GET /assets/", assetHandler())
	h.mux.HandleFunc("GET /{$}", h.servePage)
	go h.presenceLoop()
	go h.heartbeatLoop()
	return h, nil
}

// Name is the host's name.
func (h *Host) Name() string { return h.cfg.Name }

// IO is the underlying socket.io server.
func (h *Host) IO() *socket.Server { return h.io }

// Healthy reports whether the host's Redis subscription is up, i.e. whether
// it takes part in the cluster.
func (h *Host) Healthy() bool { return h.builder.Healthy() }

// WaitReady blocks until Healthy or ctx is done.
func (h *Host) WaitReady(ctx context.Context) error { return h.builder.WaitHealthy(ctx) }

// ServeHTTP serves the page, the assets, socket.io, /metrics and the
// probes. It gives every browser without one the sticky cookie the load
// balancers hash on.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/assets/") {
		if c, err := r.Cookie(events.StickyCookie); err != nil || c.Value == "" {
			http.SetCookie(w, &http.Cookie{
				Name:     events.StickyCookie,
				Value:    randomID(),
				Path:     "/",
				HttpOnly: true,
				SameSite: http.SameSiteLaxMode,
			})
		}
	}
	h.mux.ServeHTTP(w, r)
}

// Close disconnects every client of this host, leaves the cluster and stops
// the presence loop. The Redis client stays open.
func (h *Host) Close() {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		close(h.stop)
		<-h.loopDone
		<-h.beatDone
		// redisadapter (at this commit) must not be closed while a request
		// of its is in flight; each is bounded by PresenceTimeout.
		h.fetches.Wait()
		done := make(chan struct{})
		h.io.Close(func(error) { close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			h.log.Warn("socket.io server did not close within 5s")
		}
	})
}

// serveLivez answers 200 while the process serves HTTP: a liveness probe
// (restart the host when it fails). It does not look at Redis: a host cut
// off from Redis is alive and recovers on its own.
func (h *Host) serveLivez(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// serveReadyz is the readiness probe (/readyz, and /healthz for the load
// balancer configurations): 200 while the adapter hears the cluster
// (Builder.Healthy), else 503, with the adapter's Stats.
func (h *Host) serveReadyz(w http.ResponseWriter, _ *http.Request) {
	healthy := h.Healthy()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !healthy {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"host":    h.cfg.Name,
		"healthy": healthy,
		"stats":   h.builder.Stats(),
	})
}

// onConnection greets the socket, puts it in the chat room and recounts.
func (h *Host) onConnection(s *socket.Socket) {
	name := clientName(s)
	s.SetData(map[string]any{"name": name, "host": h.cfg.Name})
	s.Join(events.Room)
	h.connected.Add(1)
	h.metrics.clients.Inc()
	h.log.Info("client connected", "sid", string(s.Id()), "name", name,
		"transport", s.Conn().Transport().Name(), "remote", s.Handshake().Address)

	// Handlers first: the client may send as soon as it hears from us.
	s.On(events.Chat, func(args ...any) {
		ack, args := splitAck(args)
		text := ""
		if len(args) > 0 {
			text, _ = args[0].(string)
		}
		text = strings.TrimSpace(text)
		switch {
		case text == "":
			reply(ack, map[string]any{"ok": false, "error": "empty message"})
			return
		case utf8.RuneCountInString(text) > maxTextRunes:
			reply(ack, map[string]any{"ok": false, "error": fmt.Sprintf("message longer than %d characters", maxTextRunes)})
			return
		}
		msg := map[string]any{
			"id":   fmt.Sprintf("%s-%d", h.cfg.Name, h.seq.Add(1)),
			"name": name,
			"host": h.cfg.Name,
			"text": text,
			"at":   time.Now().UnixMilli(),
		}
		// Reaches the room's members on every host through Redis.
		h.io.To(events.Room).Emit(events.Chat, msg)
		h.metrics.chats.Inc()
		reply(ack, map[string]any{"ok": true, "id": msg["id"]})
	})
	var asking atomic.Bool // one presence request of this socket at a time
	s.On(events.Presence, func(args ...any) {
		ack, _ := splitAck(args)
		if ack == nil {
			return
		}
		if !asking.CompareAndSwap(false, true) {
			// A client asking faster than it gets answers gets the last
			// count, not another goroutine.
			p, _ := h.lastPresence()
			reply(ack, p.Map())
			return
		}
		// A count waits for the other hosts: never on the socket's own
		// goroutine.
		go func() {
			defer asking.Store(false)
			p, err := h.SharedPresence(context.Background())
			if err != nil {
				h.log.Warn("presence count incomplete", "err", err)
			}
			reply(ack, p.Map())
		}()
	})
	s.On("disconnect", func(args ...any) {
		h.connected.Add(-1)
		h.metrics.clients.Dec()
		reason := ""
		if len(args) > 0 {
			reason = fmt.Sprint(args[0])
		}
		h.log.Info("client disconnected", "sid", string(s.Id()), "name", name, "reason", reason)
		h.recount()
	})
	_ = s.Emit(events.Welcome, map[string]any{"host": h.cfg.Name, "id": string(s.Id()), "name": name})
	h.recount()
}

// recount asks the presence loop for a new broadcast; bursts coalesce.
func (h *Host) recount() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// presenceLoop broadcasts the cluster-wide online count after every change
// and once more PresenceSettle after the last one: two hosts counting at the
// same moment may each miss the other's newest socket. Changes closer than
// PresenceInterval to the last count wait for the settling one: clients
// connecting and leaving in a loop cannot make it count more often.
func (h *Host) presenceLoop() {
	defer close(h.loopDone)
	var settle *time.Timer
	var settleC <-chan time.Time
	var last time.Time
	defer func() {
		if settle != nil {
			settle.Stop()
		}
	}()
	for {
		select {
		case <-h.stop:
			return
		case <-h.kick:
			if time.Since(last) >= h.cfg.PresenceInterval {
				h.broadcastPresence()
				last = time.Now()
			}
			if settle == nil {
				settle = time.NewTimer(h.cfg.PresenceSettle)
			} else {
				settle.Reset(h.cfg.PresenceSettle)
			}
			settleC = settle.C
		case <-settleC:
			settleC = nil
			h.broadcastPresence()
			last = time.Now()
		}
	}
}

func (h *Host) broadcastPresence() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-h.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	p, err := h.Presence(ctx)
	h.counts.store(p, err)
	if err != nil {
		h.log.Warn("presence count incomplete", "err", err)
		if p.Online == 0 {
			return
		}
	}
	select {
	case <-h.stop:
		return
	default:
	}
	h.io.Emit(events.Presence, p.Map())
}

// Presence is a cluster-wide snapshot of who is online.
type Presence struct {
	// Online is the number of connected users on every host.
	Online int
	// Servers is the number of hosts in the cluster (Redis PUBSUB NUMSUB).
	Servers int64
	// PerHost counts users by the host they are connected to.
	PerHost map[string]int
	// At is when the snapshot was taken (Unix milliseconds); pages keep the
	// newest one.
	At int64
	// Partial is set when some host did not answer in time.
	Partial bool
}

// Map is the snapshot as sent to clients. (Plain maps, not structs, cross
// the Redis adapter with their JSON field names intact.)
func (p Presence) Map() map[string]any {
	per := map[string]any{}
	for k, v := range p.PerHost {
		per[k] = v
	}
	return map[string]any{
		"online":  p.Online,
		"servers": p.Servers,
		"perHost": per,
		"at":      p.At,
		"partial": p.Partial,
	}
}

// Presence counts the users of every host: io.FetchSockets() asks every
// server of the cluster for its sockets through Redis, and the adapter's
// ServerCountContext tells how many servers there are.
func (h *Host) Presence(ctx context.Context) (Presence, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PresenceTimeout)
	defer cancel()
	p := Presence{PerHost: map[string]int{}}
	var errs []error
	if a, ok := h.io.Of("/", nil).Adapter().(*redisadapter.Adapter); ok {
		n, err := a.ServerCountContext(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		p.Servers = n
	}
	type result struct {
		sockets []*socket.RemoteSocket
		err     error
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return p, ErrClosed
	}
	h.fetches.Add(1)
	h.mu.Unlock()
	res := make(chan result, 1)
	go func() {
		defer h.fetches.Done()
		h.io.Timeout(h.cfg.PresenceTimeout).FetchSockets()(func(s []*socket.RemoteSocket, err error) {
			res <- result{s, err}
		})
	}()
	select {
	case r := <-res:
		if r.err != nil {
			p.Partial = true
			errs = append(errs, r.err)
		}
		for _, s := range r.sockets {
			host := "?"
			if m, ok := s.Data().(map[string]any); ok {
				if v, ok := m["host"].(string); ok {
					host = v
				}
			}
			p.PerHost[host]++
			p.Online++
		}
	case <-ctx.Done():
		p.Partial = true
		errs = append(errs, ctx.Err())
	}
	p.At = time.Now().UnixMilli()
	return p, errors.Join(errs...)
}

// SharedPresence is Presence for clients: a count taken less than
// Config.PresenceInterval ago is returned as it is, and callers that come
// while a count runs wait for it, so that this host asks the cluster at most
// about once per interval however many clients ask.
func (h *Host) SharedPresence(ctx context.Context) (Presence, error) {
	c := &h.counts
	for {
		c.mu.Lock()
		if !c.at.IsZero() && time.Since(c.at) < h.cfg.PresenceInterval {
			p, err := c.last, c.lastErr
			c.mu.Unlock()
			return p, err
		}
		if running := c.running; running != nil {
			c.mu.Unlock()
			select {
			case <-running:
				continue
			case <-ctx.Done():
				return Presence{PerHost: map[string]int{}, Partial: true}, ctx.Err()
			}
		}
		running := make(chan struct{})
		c.running = running
		c.mu.Unlock()

		p, err := h.Presence(ctx)
		c.store(p, err)
		c.mu.Lock()
		c.running = nil
		c.mu.Unlock()
		close(running)
		return p, err
	}
}

// lastPresence is the last count taken, without asking the cluster.
func (h *Host) lastPresence() (Presence, error) {
	h.counts.mu.Lock()
	defer h.counts.mu.Unlock()
	if h.counts.at.IsZero() {
		return Presence{PerHost: map[string]int{}, Partial: true}, nil
	}
	return h.counts.last, h.counts.lastErr
}

// store keeps a count, failed ones too: a cluster that does not answer is
// not asked again sooner.
func (c *presenceCache) store(p Presence, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last, c.lastErr, c.at = p, err, time.Now()
}

// Hosts returns the host names of a snapshot, sorted.
func (p Presence) Hosts() []string {
	out := make([]string, 0, len(p.PerHost))
	for k := range p.PerHost {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// clientName is the name the client sent in its auth ({"name": ...}) or
// query (?name=...), cleaned up, or a guest name.
func clientName(s *socket.Socket) string {
	hs := s.Handshake()
	var name string
	if m, ok := hs.Auth.(map[string]any); ok {
		name, _ = m["name"].(string)
	}
	if name == "" && hs.Query != nil && len(hs.Query["name"]) > 0 {
		name = hs.Query["name"][0]
	}
	name = strings.Join(strings.Fields(name), " ")
	if utf8.RuneCountInString(name) > maxNameRunes {
		name = string([]rune(name)[:maxNameRunes])
	}
	if name == "" {
		id := string(s.Id())
		name = "guest-" + id[len(id)-4:]
	}
	return name
}

// splitAck separates a trailing acknowledgement callback from the
// arguments.
func splitAck(args []any) (socket.Ack, []any) {
	if n := len(args); n > 0 {
		if ack, ok := args[n-1].(socket.Ack); ok {
			return ack, args[:n-1]
		}
	}
	return nil, args
}

func reply(ack socket.Ack, v any) {
	if ack != nil {
		ack([]any{v}, nil)
	}
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
