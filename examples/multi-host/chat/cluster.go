package chat

import (
	"sort"
	"sync"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/events"
)

// The live cluster view: every host tells the others its status each
// HeartbeatInterval with a server-side emit, keeps the statuses it heard,
// and sends its own clients the hosts heard from within HostTimeout. A
// host that dies stops beating and leaves every page within HostTimeout;
// one that comes back reappears at its first beat.

// HostStatus is what one host says about itself.
type HostStatus struct {
	// Name is the host's name.
	Name string
	// Clients is the number of sockets connected to it.
	Clients int
	// Rate is the number of Redis messages it published and received per
	// second over the last interval (its adapter's Stats).
	Rate float64
	// Healthy is its adapter's Healthy().
	Healthy bool
	// At is when the status was taken (Unix milliseconds).
	At int64
}

func (s HostStatus) wire() map[string]any {
	return map[string]any{"name": s.Name, "clients": s.Clients, "rate": s.Rate, "healthy": s.Healthy, "at": s.At}
}

func statusFromWire(v any) (HostStatus, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return HostStatus{}, false
	}
	s := HostStatus{}
	s.Name, _ = m["name"].(string)
	if f, ok := m["clients"].(float64); ok {
		s.Clients = int(f)
	}
	s.Rate, _ = m["rate"].(float64)
	s.Healthy, _ = m["healthy"].(bool)
	if f, ok := m["at"].(float64); ok {
		s.At = int64(f)
	}
	return s, s.Name != ""
}

// cluster is the statuses this host heard.
type cluster struct {
	mu    sync.Mutex
	hosts map[string]heard
}

type heard struct {
	status HostStatus
	seen   time.Time
}

func (c *cluster) record(s HostStatus, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hosts == nil {
		c.hosts = map[string]heard{}
	}
	c.hosts[s.Name] = heard{s, now}
}

// live returns the statuses heard within timeout, sorted by name, and
// forgets the others.
func (c *cluster) live(now time.Time, timeout time.Duration) []HostStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]HostStatus, 0, len(c.hosts))
	for name, h := range c.hosts {
		if now.Sub(h.seen) > timeout {
			delete(c.hosts, name)
			continue
		}
		out = append(out, h.status)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Cluster returns the hosts this host heard from within HostTimeout, itself
// included, sorted by name.
func (h *Host) Cluster() []HostStatus { return h.cluster.live(time.Now(), h.cfg.HostTimeout) }

// onHostStatus records another host's beat (a server-side emit handler).
func (h *Host) onHostStatus(args ...any) {
	if len(args) == 0 {
		return
	}
	if s, ok := statusFromWire(args[0]); ok {
		h.cluster.record(s, time.Now())
	}
}

// heartbeatLoop beats and pushes the view to this host's clients.
func (h *Host) heartbeatLoop() {
	defer close(h.beatDone)
	t := time.NewTicker(h.cfg.HeartbeatInterval)
	defer t.Stop()
	last := time.Now()
	lastCount := h.redisMessages()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			n := h.redisMessages()
			rate := 0.0
			if dt := now.Sub(last).Seconds(); dt > 0 {
				rate = float64(n-lastCount) / dt
			}
			last, lastCount = now, n
			s := HostStatus{Name: h.cfg.Name, Clients: h.clients(), Rate: rate, Healthy: h.Healthy(), At: now.UnixMilli()}
			h.cluster.record(s, now)
			if err := h.io.ServerSideEmit(events.HostStatus, s.wire()); err != nil {
				h.log.Debug("heartbeat not published", "err", err)
			}
			view := h.Cluster()
			hosts := make([]any, len(view))
			for i, v := range view {
				hosts[i] = v.wire()
			}
			h.io.Local().Emit(events.Cluster, map[string]any{"hosts": hosts, "at": now.UnixMilli()})
		}
	}
}

// redisMessages is what this host published and received through Redis.
func (h *Host) redisMessages() uint64 {
	s := h.builder.Stats()
	return s.Published + s.Received
}

// clients is the number of sockets connected to this host.
func (h *Host) clients() int { return int(h.connected.Load()) }
