package core

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// subKind is the Redis subscription command family.
type subKind int

const (
	kindChannel subKind = iota // SUBSCRIBE
	kindPattern                // PSUBSCRIBE
	kindShard                  // SSUBSCRIBE
)

// confirmKind is the kind Redis reports in a subscription confirmation.
func (k subKind) confirmKind() string {
	switch k {
	case kindPattern:
		return "psubscribe"
	case kindShard:
		return "ssubscribe"
	}
	return "subscribe"
}

// subOf maps a confirmation kind back to its subscription.
func subOf(kind, name string) (sub, bool) {
	switch kind {
	case "subscribe":
		return sub{kindChannel, name}, true
	case "psubscribe":
		return sub{kindPattern, name}, true
	case "ssubscribe":
		return sub{kindShard, name}, true
	}
	return sub{}, false
}

// sub names one subscription.
type sub struct {
	kind subKind
	name string
}

// handler receives the messages of one subscription, on the subscriber's
// goroutine: it must not block.
type handler func(*redis.Message)

// link is how a subscriber reaches Redis.
type link struct {
	// dial returns a new PubSub that has not connected yet.
	dial func() *redis.PubSub
	// master, when set, returns the address of the master the client's
	// command pool talks to now; the subscriber redials when it differs
	// from the one its connection was opened under (a Sentinel failover).
	master func(ctx context.Context) (string, error)
	// name tells connections apart in logs ("" for the only one).
	name string
	// interval is the health-check interval.
	interval time.Duration
}

// clientLink is the link of rdb's own pub/sub connections. For a Sentinel
// failover client it also follows the master.
func clientLink(rdb redis.UniversalClient, interval time.Duration) link {
	l := link{
		dial:     func() *redis.PubSub { return rdb.Subscribe(context.Background()) },
		interval: interval,
	}
	if c, ok := rdb.(*redis.Client); ok && c.Options().Addr == failoverClientAddr {
		l.master = func(ctx context.Context) (string, error) { return serverAddr(ctx, c) }
	}
	return l
}

// failoverClientAddr is the placeholder address redis.NewFailoverClient puts
// in its options: the real one is asked from the Sentinels on every dial.
const failoverClientAddr = "FailoverClient"

// serverAddr returns the address of the server rdb's pool is connected to,
// as that server reports it (CLIENT INFO laddr).
func serverAddr(ctx context.Context, rdb *redis.Client) (string, error) {
	info, err := rdb.Do(ctx, "CLIENT", "INFO").Text()
	if err != nil {
		return "", err
	}
	for _, f := range strings.Fields(info) {
		if v, ok := strings.CutPrefix(f, "laddr="); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("no laddr in CLIENT INFO %q", info)
}

// subState is what the subscriber knows about one wanted subscription.
type subState struct {
	h         handler
	confirmed bool   // Redis confirmed it on the current connection
	pending   bool   // requested, neither confirmed nor settled as refused yet
	asked     uint64 // ping sequence number when it was last requested
	refused   error  // why Redis did not confirm it by the next PING, nil if it did
	warned    string // the refusal last logged at Warn
	retry     time.Duration
	retryAt   time.Time
	waiters   []chan error
}

var (
	// errNoPong reports a connection that did not answer a health check.
	errNoPong = errors.New("no reply to PING")
	// errMasterMoved reports a connection left on a former master.
	errMasterMoved = errors.New("the master moved")
	// errRefused reports a subscription Redis refused.
	errRefused = errors.New("subscription refused by Redis")
)

// noRedial is a cancelled context for calls on an established PubSub. go-redis
// uses the context of such a call only to dial when it replaces a broken
// connection on its own; with a cancelled one that dial fails at once, so
// every redial goes through the subscriber's backoff. Reads and writes take
// their deadlines from timeouts, not from this context.
var noRedial = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// Backoff bounds between connection attempts (jittered, doubling).
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// subscriber multiplexes the subscriptions of every namespace of a builder
// over one Redis pub/sub connection. It owns the connection's life cycle:
// it dials, subscribes every wanted channel one command each, proves the link
// with a PING whose reply must come back within half a health-check
// interval, and on any failure closes the connection and dials a new one
// after a capped, jittered exponential backoff. go-redis is never left to
// redial on its own (see noRedial), so a refusing Redis cannot cause a storm.
type subscriber struct {
	link   link
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  *counters
	log    *rateLog

	// wireMu orders the commands written to the connection, so that a
	// subscription requested before PING n is answered before PONG n.
	wireMu sync.Mutex

	mu      sync.RWMutex
	subs    map[sub]*subState
	ps      *redis.PubSub // nil while disconnected
	pingSeq uint64        // number of the last PING written
	proven  bool          // a PONG arrived on the current connection
	// connMaster is the master the current connection was opened under,
	// lastMaster the latest one seen by the master watcher.
	connMaster, lastMaster string

	up       atomic.Bool
	upSignal chan struct{} // closed and replaced when the connection comes up
	sigMu    sync.Mutex
	moved    atomic.Bool

	// Receive-goroutine state.
	pingOut    bool // a PING is waiting for its PONG
	pingSentAt time.Time
	// heardAt is when the connection last delivered something. Redis
	// answers a PING after the messages it queued before it, so under a
	// backlog the PONG comes late while messages keep arriving: those
	// prove the link as well.
	heardAt    time.Time
	nextPing   time.Time
	lastRefuse error  // the last error reply since the last PONG
	cause      string // why the subscriber is down, "" while it is up
	lostConn   bool   // the current outage lost a working connection

	// onLost, when set, is told about subscriptions Redis ended without
	// being asked (a sharded channel whose slot moved) and about
	// connection failures (name ""). It runs on the receive goroutine.
	onLost func(name string)
}

func newSubscriber(l link, stats *counters, log *rateLog, onLost func(string)) *subscriber {
	if l.interval <= 0 {
		l.interval = DefaultConfig().HealthCheckInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriber{
		link:     l,
		ctx:      ctx,
		cancel:   cancel,
		stats:    stats,
		log:      log,
		subs:     map[sub]*subState{},
		upSignal: make(chan struct{}),
		cause:    "not connected yet",
		onLost:   onLost,
	}
	s.wg.Add(1)
	go s.run()
	if l.master != nil {
		s.wg.Add(1)
		go s.watchMaster()
	}
	return s
}

// subscribe registers handlers and subscribes, waiting (bounded by ctx) for
// Redis to confirm every subscription. On timeout or refusal the
// subscriptions stay wanted: they are established when the connection comes
// back or retried with backoff.
func (s *subscriber) subscribe(ctx context.Context, subs map[sub]handler) error {
	var waits []chan error
	var send []sub
	s.wireMu.Lock()
	s.mu.Lock()
	ps := s.ps
	for k, h := range subs {
		st := s.subs[k]
		if st == nil {
			st = &subState{}
			s.subs[k] = st
		}
		st.h = h
		if st.confirmed {
			continue
		}
		w := make(chan error, 1)
		st.waiters = append(st.waiters, w)
		waits = append(waits, w)
		st.asked, st.pending = s.pingSeq, true
		send = append(send, k)
	}
	s.mu.Unlock()
	if ps != nil {
		// A failed write breaks the connection, which the receive
		// loop notices and redials, subscribing everything wanted.
		for _, k := range send {
			if err := sendSub(ps, k, true); err != nil {
				s.log.debug("subscribe failed", "channel", k.name, "err", err)
				break
			}
		}
	}
	s.wireMu.Unlock()

	var errs []error
	for _, w := range waits {
		select {
		case err := <-w:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			return fmt.Errorf("sioredis: waiting for subscription confirmation: %w", ctx.Err())
		}
	}
	return errors.Join(errs...)
}

// sendSub writes one (P|S)(UN)SUBSCRIBE for k.
func sendSub(ps *redis.PubSub, k sub, on bool) error {
	switch {
	case k.kind == kindPattern && on:
		return ps.PSubscribe(noRedial, k.name)
	case k.kind == kindPattern:
		return ps.PUnsubscribe(noRedial, k.name)
	case k.kind == kindShard && on:
		return ps.SSubscribe(noRedial, k.name)
	case k.kind == kindShard:
		return ps.SUnsubscribe(noRedial, k.name)
	case on:
		return ps.Subscribe(noRedial, k.name)
	}
	return ps.Unsubscribe(noRedial, k.name)
}

// unsubscribe removes handlers and unsubscribes. Errors are logged: the
// connection may be down, in which case there is nothing to undo.
func (s *subscriber) unsubscribe(_ context.Context, subs []sub) {
	s.wireMu.Lock()
	defer s.wireMu.Unlock()
	s.mu.Lock()
	ps := s.ps
	for _, k := range subs {
		st, ok := s.subs[k]
		if !ok {
			continue
		}
		delete(s.subs, k)
		if st.confirmed {
			s.stats.subscriptions.Add(-1)
		}
		for _, w := range st.waiters {
			w <- ErrClosed
		}
	}
	s.mu.Unlock()
	s.updateHealth()
	if ps == nil {
		return
	}
	for _, k := range subs {
		if err := sendSub(ps, k, false); err != nil {
			s.log.debug("unsubscribe failed", "channel", k.name, "err", err)
			return
		}
	}
}

func (s *subscriber) healthy() bool { return s.up.Load() }

// waitUp blocks until the connection is up or ctx is done.
func (s *subscriber) waitUp(ctx context.Context) error {
	for {
		if s.up.Load() {
			return nil
		}
		s.sigMu.Lock()
		sig := s.upSignal
		s.sigMu.Unlock()
		if s.up.Load() {
			return nil
		}
		select {
		case <-sig:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *subscriber) setUp(up bool) {
	if up == s.up.Load() {
		return
	}
	s.up.Store(up)
	if up {
		s.sigMu.Lock()
		close(s.upSignal)
		s.upSignal = make(chan struct{})
		s.sigMu.Unlock()
	}
}

// updateHealth recomputes Healthy: connected, proven by a PONG, and no
// wanted subscription refused.
func (s *subscriber) updateHealth() {
	s.mu.RLock()
	ok := s.ps != nil && s.proven
	for _, st := range s.subs {
		if !ok {
			break
		}
		ok = st.confirmed || st.refused == nil
	}
	s.mu.RUnlock()
	s.setUp(ok)
}

func (s *subscriber) run() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		ps, err := s.connect()
		if err == nil {
			var proven bool
			proven, err = s.serve(ps)
			s.disconnect(ps)
			if s.ctx.Err() != nil {
				return
			}
			if proven {
				backoff = 0
			}
			s.connectionLost(err)
		} else {
			if s.ctx.Err() != nil {
				return
			}
			backoff = nextBackoff(backoff)
			s.connectFailed(err, backoff)
		}
		if backoff == 0 {
			backoff = minBackoff / 2
		}
		// Jitter: servers that lost Redis together must not return in step.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(wait):
		case <-s.ctx.Done():
			return
		}
	}
}

// nextBackoff doubles b within [minBackoff, maxBackoff].
func nextBackoff(b time.Duration) time.Duration {
	switch {
	case b < minBackoff:
		return minBackoff
	case b*2 > maxBackoff:
		return maxBackoff
	}
	return b * 2
}

// connect opens a connection, subscribes everything wanted and sends the
// PING that proves it. An error means no connection: a refused or timed-out
// dial or a refused handshake (AUTH, HELLO, LOADING...).
func (s *subscriber) connect() (*redis.PubSub, error) {
	ps := s.link.dial()
	// The first PING dials and runs the handshake; its reply is ignored.
	ctx, cancel := context.WithTimeout(s.ctx, 2*s.link.interval+5*time.Second)
	err := ps.Ping(ctx, "sioredis")
	cancel()
	if err != nil {
		_ = ps.Close()
		return nil, err
	}
	s.wireMu.Lock()
	defer s.wireMu.Unlock()
	s.mu.Lock()
	wanted := make([]sub, 0, len(s.subs))
	for k, st := range s.subs {
		st.asked, st.pending = s.pingSeq, true
		wanted = append(wanted, k)
	}
	s.mu.Unlock()
	// One command per subscription: Redis refuses a command as a whole, so
	// a forbidden channel must not take allowed ones down with it, and
	// sharded channels of several slots must not fail with CROSSSLOT.
	for _, k := range wanted {
		if err := sendSub(ps, k, true); err != nil {
			_ = ps.Close()
			return nil, err
		}
	}
	s.moved.Store(false)
	s.mu.Lock()
	s.ps = ps
	s.proven = false
	s.connMaster = s.lastMaster
	s.mu.Unlock()
	if err := s.pingLocked(ps, time.Now()); err != nil {
		s.disconnect(ps)
		return nil, err
	}
	return ps, nil
}

// pingLocked writes the next PING. Called with wireMu held, on the receive
// goroutine.
func (s *subscriber) pingLocked(ps *redis.PubSub, now time.Time) error {
	s.mu.Lock()
	s.pingSeq++
	seq := s.pingSeq
	s.mu.Unlock()
	s.pingOut, s.pingSentAt, s.nextPing = true, now, now.Add(s.link.interval)
	return ps.Ping(noRedial, pingPayload(seq))
}

func pingPayload(seq uint64) string { return "sioredis-" + strconv.FormatUint(seq, 10) }

// serve reads the connection until it fails, the health check misses or
// the master moves. proven reports whether it ever answered a PING.
func (s *subscriber) serve(ps *redis.PubSub) (proven bool, err error) {
	tick := s.link.interval / 4
	for {
		msg, err := ps.ReceiveTimeout(noRedial, tick)
		if s.ctx.Err() != nil {
			return proven, s.ctx.Err()
		}
		now := time.Now()
		if err != nil {
			var rerr redis.Error
			var ne net.Error
			switch {
			case errors.As(err, &rerr):
				// An error reply on a live connection (-NOPERM to a
				// subscription, MOVED after a slot migration): not a
				// connection failure.
				s.lastRefuse = err
				s.log.debug("pub/sub error reply", "conn", s.link.name, "err", err)
			case errors.As(err, &ne) && ne.Timeout():
			default:
				return proven, err
			}
		} else {
			s.heardAt = now
			switch m := msg.(type) {
			case *redis.Subscription:
				s.confirmed(m)
			case *redis.Pong:
				if s.pong(m.Payload) {
					proven = true
				}
			case *redis.Message:
				s.stats.received.Add(1)
				s.dispatch(m)
			}
		}
		if err := s.tick(ps, now); err != nil {
			return proven, err
		}
	}
}

// tick runs the health check and the retries of refused subscriptions. A
// PING is missed when neither its PONG nor anything else came within half
// an interval of it, or of the last message after it.
func (s *subscriber) tick(ps *redis.PubSub, now time.Time) error {
	if s.pingOut && now.Sub(later(s.pingSentAt, s.heardAt)) > s.link.interval/2 {
		s.stats.healthCheckFailures.Add(1)
		if s.lastRefuse != nil {
			// E.g. -LOADING or -MASTERDOWN instead of a PONG.
			return fmt.Errorf("%w within %v (last error reply: %v)", errNoPong, s.link.interval/2, s.lastRefuse)
		}
		return fmt.Errorf("%w within %v", errNoPong, s.link.interval/2)
	}
	if s.moved.Load() {
		s.stats.masterSwitches.Add(1)
		return errMasterMoved
	}
	if s.pingOut {
		return nil
	}
	var retry []sub
	s.mu.Lock()
	for k, st := range s.subs {
		if st.refused != nil && !st.confirmed && !st.pending && !now.Before(st.retryAt) {
			retry = append(retry, k)
		}
	}
	s.mu.Unlock()
	if len(retry) == 0 && now.Before(s.nextPing) {
		return nil
	}
	s.wireMu.Lock()
	defer s.wireMu.Unlock()
	s.mu.Lock()
	for _, k := range retry {
		if st := s.subs[k]; st != nil {
			st.asked, st.pending = s.pingSeq, true
			st.retryAt = now.Add(st.retry) // until the next PONG says more
		}
	}
	s.mu.Unlock()
	for _, k := range retry {
		if err := sendSub(ps, k, true); err != nil {
			return err
		}
	}
	return s.pingLocked(ps, now)
}

// pong handles a PING reply. The current PING proves the connection and,
// since Redis answers in order, settles every subscription requested before
// it: one not confirmed by now was refused.
func (s *subscriber) pong(payload string) bool {
	s.mu.Lock()
	seq := s.pingSeq
	if !s.pingOut || payload != pingPayload(seq) {
		s.mu.Unlock()
		return false
	}
	s.pingOut = false
	s.proven = true
	reason := s.lastRefuse
	s.lastRefuse = nil
	if reason == nil {
		reason = errors.New("no confirmation")
	}
	now := time.Now()
	type refusal struct {
		k    sub
		warn bool
	}
	var refused []refusal
	for k, st := range s.subs {
		if st.confirmed || !st.pending || st.asked >= seq {
			continue
		}
		st.pending = false
		st.refused = reason
		if st.retry == 0 {
			st.retry = s.link.interval / 5
		} else if st.retry < 6*s.link.interval {
			st.retry *= 2
		}
		st.retryAt = now.Add(st.retry/2 + rand.N(st.retry/2+1))
		warn := st.warned != reason.Error()
		st.warned = reason.Error()
		refused = append(refused, refusal{k, warn})
		for _, w := range st.waiters {
			w <- fmt.Errorf("%w: %s %q: %v", errRefused, k.kind.confirmKind(), k.name, reason)
		}
		st.waiters = nil
	}
	s.mu.Unlock()
	for _, r := range refused {
		s.stats.subscribeRefused.Add(1)
		args := []any{"conn", s.link.name, "command", r.k.kind.confirmKind(), "channel", r.k.name, "reason", reason.Error()}
		if r.warn {
			s.log.l.Warn("sioredis: subscription refused by Redis; retrying with backoff", args...)
		} else {
			s.log.debug("subscription refused again", args...)
		}
	}
	s.becameHealthy()
	return true
}

// confirmed handles a subscription confirmation (or an unsolicited
// SUNSUBSCRIBE).
func (s *subscriber) confirmed(m *redis.Subscription) {
	if m.Kind == "sunsubscribe" {
		s.lostShard(m.Channel)
		return
	}
	k, ok := subOf(m.Kind, m.Channel)
	if !ok {
		return
	}
	s.mu.Lock()
	st := s.subs[k]
	if st == nil || st.confirmed {
		s.mu.Unlock()
		return
	}
	st.confirmed, st.pending = true, false
	wasRefused := st.refused != nil
	st.refused, st.warned, st.retry = nil, "", 0
	// Counted before the waiters are released: a caller whose subscribe
	// returned reads Stats.Subscriptions with this one in it.
	s.stats.subscriptions.Add(1)
	for _, w := range st.waiters {
		w <- nil
	}
	st.waiters = nil
	s.mu.Unlock()
	if wasRefused {
		s.log.info("subscription accepted now", "conn", s.link.name, "channel", k.name)
	}
	s.becameHealthy()
}

// becameHealthy updates Healthy and, when an outage ends, logs and counts
// the recovery.
func (s *subscriber) becameHealthy() {
	s.updateHealth()
	if !s.up.Load() || s.cause == "" {
		return
	}
	if s.lostConn {
		s.stats.reconnects.Add(1)
		s.log.info("subscriber connection restored", "conn", s.link.name, "after", s.cause)
	}
	s.cause, s.lostConn = "", false
}

// disconnect closes ps and forgets every confirmation.
func (s *subscriber) disconnect(ps *redis.PubSub) {
	s.mu.Lock()
	if s.ps == ps {
		s.ps = nil
	}
	s.proven = false
	var confirmed int64
	for _, st := range s.subs {
		if st.confirmed {
			confirmed++
		}
		st.confirmed, st.pending, st.refused, st.retry = false, false, nil, 0
	}
	s.mu.Unlock()
	s.stats.subscriptions.Add(-confirmed)
	s.pingOut = false
	s.lastRefuse = nil
	_ = ps.Close()
	s.setUp(false)
}

// outage logs a failure at Warn when its cause differs from the current
// outage's, else at Debug: one Warn per cause, not per attempt.
func (s *subscriber) outage(cause, msg string, args ...any) {
	args = append([]any{"conn", s.link.name}, args...)
	if cause != s.cause {
		s.log.l.Warn("sioredis: "+msg, args...)
	} else {
		s.log.debug(msg, args...)
	}
	s.cause = cause
}

func (s *subscriber) connectionLost(err error) {
	s.lostConn = true
	switch {
	case errors.Is(err, errNoPong):
		s.outage("no-pong", "Redis did not answer the health check; dropping the subscriber connection and redialling", "err", err)
	case errors.Is(err, errMasterMoved):
		s.outage("master-moved", "the Redis master changed; moving the subscriber connection to the new master")
	default:
		s.outage("lost", "subscriber connection lost; reconnecting", "err", err)
	}
	if s.onLost != nil {
		s.onLost("")
	}
}

// connectFailed handles a failed connect: a refused or timed-out dial, or
// a handshake Redis refused. Both wait for the same backoff.
func (s *subscriber) connectFailed(err error, backoff time.Duration) {
	s.stats.connectFailures.Add(1)
	cause := "connect: unreachable"
	var rerr redis.Error
	if errors.As(err, &rerr) {
		code, _, _ := strings.Cut(rerr.Error(), " ")
		cause = "connect: refused by Redis: " + code
	}
	s.outage(cause, "cannot connect the subscriber to Redis; retrying with backoff",
		"cause", cause, "err", err, "retry_within", backoff)
}

// watchMaster compares, every interval, the master the client's pool talks
// to with the one the connection was opened under, and asks the receive
// loop to move when they differ.
func (s *subscriber) watchMaster() {
	defer s.wg.Done()
	t := time.NewTicker(s.link.interval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(s.ctx, s.link.interval)
		addr, err := s.link.master(ctx)
		cancel()
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.warn("master-lookup", "cannot tell where the master is (CLIENT INFO); a failover is then only noticed through the health check",
				"conn", s.link.name, "err", err)
		} else {
			s.mu.Lock()
			s.lastMaster = addr
			switch {
			case s.ps == nil:
			case s.connMaster == "":
				s.connMaster = addr
			case s.connMaster != addr:
				s.moved.Store(true)
			}
			s.mu.Unlock()
		}
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *subscriber) dispatch(m *redis.Message) {
	var k sub
	switch {
	case m.Pattern != "":
		k = sub{kindPattern, m.Pattern}
	default:
		k = sub{kindChannel, m.Channel}
	}
	s.mu.RLock()
	st, ok := s.subs[k]
	if !ok && k.kind == kindChannel {
		k.kind = kindShard
		st, ok = s.subs[k]
	}
	var h handler
	if ok {
		h = st.h
	}
	s.mu.RUnlock()
	if h == nil {
		s.stats.ignored.Add(1)
		return
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.warn("handler-panic", "message handler panicked", "channel", m.Channel, "panic", r)
			}
		}()
		h(m)
	}()
}

func (s *subscriber) close() {
	s.cancel()
	s.mu.Lock()
	ps := s.ps
	s.mu.Unlock()
	if ps != nil {
		_ = ps.Close() // ends a blocked read
	}
	s.wg.Wait()
	s.mu.Lock()
	for _, st := range s.subs {
		if st.confirmed {
			s.stats.subscriptions.Add(-1)
			st.confirmed = false
		}
		for _, w := range st.waiters {
			w <- ErrClosed
		}
		st.waiters = nil
	}
	s.subs = map[sub]*subState{}
	s.mu.Unlock()
	s.setUp(false)
}

// has reports whether k is wanted.
func (s *subscriber) has(k sub) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.subs[k]
	return ok
}

// lostShard handles a SUNSUBSCRIBE we did not ask for: the channel's slot
// moved to another master. The channel is forgotten here and the owner is
// told so that it can subscribe it where it lives now.
func (s *subscriber) lostShard(channel string) {
	k := sub{kindShard, channel}
	s.mu.Lock()
	st, wanted := s.subs[k]
	delete(s.subs, k)
	s.mu.Unlock()
	if !wanted {
		return
	}
	if st.confirmed {
		s.stats.subscriptions.Add(-1)
	}
	for _, w := range st.waiters {
		w <- fmt.Errorf("%w: %q moved to another master", errRefused, channel)
	}
	s.updateHealth()
	if s.onLost != nil {
		s.onLost(channel)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
