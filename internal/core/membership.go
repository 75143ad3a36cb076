package core

import (
	"context"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/protocol"
)

// Membership: every Go server announces itself per namespace (a heartbeat
// on start, every HeartbeatInterval, a leave message on Close), so that a
// request waits only for servers that are alive and answer its kind.
//
// The rule for the answers a request expects (see README, Membership):
//
//	named     = the live Go members that announce the request kind
//	anonymous = NUMSUB - 1 (this server) - live Go members
//	            - departed Go members whose subscription Redis may still count
//	expected  = named + max(anonymous, 0)
//
// Node servers do not heartbeat: they are the anonymous part, counted the
// way Node counts them. A request stops waiting for a named member as soon
// as it is declared dead or leaves. A departed member stays on record (a
// tombstone) until its private channel shows no subscriber, then one
// interval more, so that a count taken while Redis still counted it is
// corrected.
//
// The wire formats only carry the messages (wire.announce,
// wire.peerSubscribed, and a call to Adapter.onHeartbeat on receipt); the
// logic here is format-agnostic.

// The capabilities: the request kinds a server answers, as announced.
const (
	CapFetchSockets          = "fetchSockets"
	CapAllRooms              = "allRooms"
	CapServerSideEmitWithAck = "serverSideEmitWithAck"
	CapBroadcastWithAck      = "broadcastWithAck"
)

// Capabilities lists every capability this version answers.
func Capabilities() []string {
	return []string{CapFetchSockets, CapAllRooms, CapServerSideEmitWithAck, CapBroadcastWithAck}
}

// capabilityOf is the capability a request of kind k needs from a server
// to be answered ("" for kinds nobody answers or every server answers).
func capabilityOf(k Kind) string {
	switch k {
	case KindFetchSockets:
		return CapFetchSockets
	case KindAllRooms:
		return CapAllRooms
	case KindServerSideEmit:
		return CapServerSideEmitWithAck
	case KindBroadcast:
		return CapBroadcastWithAck
	}
	return ""
}

// Bounds against a flood of made-up uids (anyone who can publish on the
// channels can send heartbeats): the peers kept per namespace, and the
// departed ones whose subscription is checked per interval.
const (
	maxPeers          = 4096
	maxChecksPerSweep = 64
)

type peerState int

const (
	peerLive peerState = iota
	peerDead
	peerLeft
)

// peer is another server of the namespace.
type peer struct {
	info     sioredis.Member
	caps     map[string]bool // nil: answers everything
	state    peerState
	lastSeen time.Time
	// Departed peers: when their subscription was last checked and when
	// Redis was seen not to count it any more (zero while it may).
	checkedAt      time.Time
	unsubscribedAt time.Time
}

func (p *peer) answers(capability string) bool {
	return capability == "" || p.caps == nil || p.caps[capability]
}

// waiter is a request in flight that waits for named members.
type waiter interface {
	memberGone(uid string)
}

// membership is one namespace adapter's view of the other Go servers.
type membership struct {
	a         *Adapter
	startedAt time.Time
	host      string
	caps      []string
	capSet    map[string]bool

	mu      sync.Mutex
	peers   map[string]*peer
	waiters map[waiter]struct{}
	events  []sioredis.MemberEvent // for the listener, in order

	notify chan struct{} // events queued
	reply  chan struct{} // an INITIAL_HEARTBEAT asks for a heartbeat
	stop   chan struct{}
	wg     sync.WaitGroup // the heartbeat goroutine
	// The listener goroutine, not awaited when the listener itself closes
	// the adapter (as the namespace worker).
	listenerDone chan struct{}
	inListener   atomic.Bool
	checking     atomic.Bool // a subscription check of departed peers runs
	lastSweep    time.Time   // the heartbeat goroutine's
}

func newMembership(a *Adapter) *membership {
	host, _ := os.Hostname()
	caps := Capabilities()
	if c := a.cfg().Capabilities; c != nil {
		caps = slices.Clone(c)
	}
	m := &membership{
		a: a, startedAt: time.Now(), host: host, caps: caps, capSet: map[string]bool{},
		peers: map[string]*peer{}, waiters: map[waiter]struct{}{},
		notify: make(chan struct{}, 1), reply: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	for _, c := range caps {
		m.capSet[c] = true
	}
	return m
}

// answers tells whether this server answers requests of kind k.
func (m *membership) answers(k Kind) bool {
	c := capabilityOf(k)
	return c == "" || m.capSet[c]
}

func (m *membership) start() {
	m.wg.Add(1)
	go m.run()
	if m.a.cfg().MemberListener != nil {
		m.listenerDone = make(chan struct{})
		go m.deliver()
	}
}

// leave stops the heartbeats and announces the departure. The message is
// queued, not awaited: a Redis that does not answer must not slow Close
// down (the publisher flushes its queue, bounded, when it closes).
func (m *membership) leave() {
	close(m.stop)
	m.wg.Wait()
	if m.listenerDone != nil && !m.inListener.Load() {
		<-m.listenerDone
	}
	m.mu.Lock()
	for w := range m.waiters {
		delete(m.waiters, w)
	}
	m.mu.Unlock()
	if err := m.a.wire.announce(context.Background(), &protocol.Envelope{Type: protocol.MsgAdapterClose}, false); err != nil {
		m.a.log.warn("leave", "leave message not published; the others will declare this server dead",
			"nsp", m.a.name, "err", err)
	}
}

func (m *membership) heartbeat(t protocol.MessageType) {
	err := m.a.wire.announce(context.Background(), &protocol.Envelope{Type: t, Member: &protocol.MemberInfo{
		Host: m.host, Version: sioredis.Version, Capabilities: m.caps, HasCapabilities: true,
		StartedAt: m.startedAt.UnixMilli(),
	}}, false)
	if err != nil {
		m.a.log.warn("heartbeat", "heartbeat not published", "nsp", m.a.name, "err", err)
	}
}

func (m *membership) run() {
	defer m.wg.Done()
	interval := m.a.cfg().HeartbeatInterval
	m.heartbeat(protocol.MsgInitialHeartbeat)
	last := time.Now()
	// Ticks at half the interval: a silent peer is declared dead at most
	// half an interval after its timeout.
	t := time.NewTicker(max(interval/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-m.reply:
			m.heartbeat(protocol.MsgHeartbeat)
			last = time.Now()
		case now := <-t.C:
			if now.Sub(last) >= interval-interval/4 {
				m.heartbeat(protocol.MsgHeartbeat)
				last = now
			}
			m.sweep(now)
		}
	}
}

// sweep declares dead the peers unheard for the timeout and checks
// whether Redis still counts the departed ones.
func (m *membership) sweep(now time.Time) {
	cfg := m.a.cfg()
	// This server may be the one that could not hear: its subscriber
	// connection is down, or its process was frozen or starved (the
	// sweeps were far apart). Its peers are not declared dead for that:
	// they get a full timeout from now to be heard again.
	deaf := m.a.sub != nil && !m.a.sub.healthy() ||
		!m.lastSweep.IsZero() && now.Sub(m.lastSweep) > cfg.HeartbeatTimeout/2
	m.lastSweep = now
	var dead, check []string
	m.mu.Lock()
	for uid, p := range m.peers {
		switch {
		case p.state == peerLive && deaf:
			p.lastSeen = now
		case p.state == peerLive:
			if now.Sub(p.lastSeen) > cfg.HeartbeatTimeout {
				p.state, p.checkedAt = peerDead, time.Time{}
				dead = append(dead, uid)
				m.a.stats.membersDead.Add(1)
				m.queue(sioredis.MemberDead, p)
			}
		case !p.unsubscribedAt.IsZero():
			if now.Sub(p.unsubscribedAt) >= cfg.HeartbeatInterval {
				delete(m.peers, uid)
			}
		case now.Sub(p.checkedAt) >= cfg.HeartbeatInterval && len(check) < maxChecksPerSweep:
			p.checkedAt = now
			check = append(check, uid)
		}
	}
	m.mu.Unlock()
	for _, uid := range dead {
		m.a.log.warn("member-dead", "server declared dead: no heartbeat within the timeout; requests stop waiting for it",
			"nsp", m.a.name, "uid", uid, "timeout", cfg.HeartbeatTimeout)
		m.gone(uid)
	}
	if len(check) > 0 && m.checking.CompareAndSwap(false, true) {
		// On a goroutine of its own: a Redis that does not answer holds
		// the check until the client gives up (see countCall), and must
		// hold neither the heartbeats nor Close.
		go m.checkDeparted(check, now)
	}
}

// checkDeparted records which departed peers Redis no longer counts.
func (m *membership) checkDeparted(uids []string, now time.Time) {
	defer m.checking.Store(false)
	for _, uid := range uids {
		ctx, cancel := context.WithTimeout(context.Background(), m.a.cfg().HeartbeatInterval)
		subscribed, err := m.a.wire.peerSubscribed(ctx, uid)
		cancel()
		if err != nil || subscribed {
			continue
		}
		m.mu.Lock()
		if p := m.peers[uid]; p != nil && p.state != peerLive {
			p.unsubscribedAt = now
		}
		m.mu.Unlock()
	}
}

// gone tells the requests in flight that uid will not answer.
func (m *membership) gone(uid string) {
	m.mu.Lock()
	ws := make([]waiter, 0, len(m.waiters))
	for w := range m.waiters {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	for _, w := range ws {
		w.memberGone(uid)
	}
}

// onHeartbeat records a heartbeat or a leave message of another server.
// It runs on the subscriber goroutine.
func (m *membership) onHeartbeat(e *protocol.Envelope) {
	now := time.Now()
	m.mu.Lock()
	p := m.peers[e.UID]
	if p == nil && len(m.peers) >= maxPeers {
		m.mu.Unlock()
		m.a.stats.ignored.Add(1)
		m.a.log.warn("members-full", "heartbeat of a new server ignored: too many servers known", "nsp", m.a.name, "max", maxPeers)
		return
	}
	if e.Type == protocol.MsgAdapterClose {
		if p == nil {
			// Unknown until now: still recorded, Redis may count it.
			p = &peer{info: sioredis.Member{UID: e.UID, Namespace: m.a.name}}
			m.peers[e.UID] = p
		} else if p.state == peerLeft {
			m.mu.Unlock()
			return
		}
		wasLive := p.state == peerLive
		p.state, p.checkedAt, p.unsubscribedAt = peerLeft, time.Time{}, time.Time{}
		if wasLive {
			m.a.stats.membersLeft.Add(1)
			m.queue(sioredis.MemberLeft, p)
		}
		m.mu.Unlock()
		m.gone(e.UID)
		return
	}
	joined := p == nil || p.state != peerLive
	if p == nil {
		p = &peer{}
		m.peers[e.UID] = p
	}
	p.state, p.lastSeen, p.unsubscribedAt = peerLive, now, time.Time{}
	p.info = sioredis.Member{UID: e.UID, Namespace: m.a.name}
	p.caps = nil
	if mi := e.Member; mi != nil {
		p.info.Host, p.info.Version = mi.Host, mi.Version
		if mi.StartedAt > 0 {
			p.info.StartedAt = time.UnixMilli(mi.StartedAt)
		}
		if mi.HasCapabilities {
			p.info.Capabilities = slices.Clone(mi.Capabilities)
			p.caps = map[string]bool{}
			for _, c := range mi.Capabilities {
				p.caps[c] = true
			}
		}
	}
	if joined {
		m.queue(sioredis.MemberJoined, p)
	}
	m.mu.Unlock()
	if e.Type == protocol.MsgInitialHeartbeat {
		// A newcomer: tell it about this server now, not an interval later.
		select {
		case m.reply <- struct{}{}:
		default:
		}
	}
}

// expect computes the answers a request of kind k expects, given numsub
// (the subscribers Redis counts, this server included): the named live
// members that answer k, and how many servers without heartbeat. kind 0
// names every live member.
func (m *membership) expect(k Kind, numsub int64) (named []string, anonymous int) {
	capability := capabilityOf(k)
	counted, skipped := 0, 0
	m.mu.Lock()
	for uid, p := range m.peers {
		switch {
		case p.state == peerLive:
			counted++
			if k == 0 || p.answers(capability) {
				named = append(named, uid)
			} else {
				skipped++
			}
		case p.unsubscribedAt.IsZero():
			counted++ // departed, but Redis may still count it
		}
	}
	m.mu.Unlock()
	if skipped > 0 {
		m.a.stats.unsupportedSkipped.Add(uint64(skipped))
	}
	slices.Sort(named)
	return named, max(int(numsub)-1-counted, 0)
}

func (m *membership) register(w waiter) {
	m.mu.Lock()
	m.waiters[w] = struct{}{}
	m.mu.Unlock()
}

func (m *membership) unregister(w waiter) {
	m.mu.Lock()
	delete(m.waiters, w)
	m.mu.Unlock()
}

// members lists the live members, by uid.
func (m *membership) members() []sioredis.Member {
	m.mu.Lock()
	out := make([]sioredis.Member, 0, len(m.peers))
	for _, p := range m.peers {
		if p.state == peerLive {
			mem := p.info
			mem.Capabilities = slices.Clone(mem.Capabilities)
			out = append(out, mem)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(x, y sioredis.Member) int {
		if x.UID < y.UID {
			return -1
		}
		if x.UID > y.UID {
			return 1
		}
		return 0
	})
	return out
}

// queue records an event for the listener; m.mu is held.
func (m *membership) queue(kind sioredis.MemberEventKind, p *peer) {
	if m.a.cfg().MemberListener == nil {
		return
	}
	mem := p.info
	mem.Capabilities = slices.Clone(mem.Capabilities)
	m.events = append(m.events, sioredis.MemberEvent{Kind: kind, Member: mem})
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// deliver calls the listener with the queued events, in order, on a
// goroutine of its own so that a slow listener delays no message.
func (m *membership) deliver() {
	defer close(m.listenerDone)
	listener := m.a.cfg().MemberListener
	for {
		select {
		case <-m.stop:
			return
		case <-m.notify:
		}
		m.mu.Lock()
		evs := m.events
		m.events = nil
		m.mu.Unlock()
		for _, ev := range evs {
			m.inListener.Store(true)
			m.a.safely("member-listener", func() { listener(ev) })
			m.inListener.Store(false)
		}
	}
}
