package core

import (
	"context"
	"errors"
	"fmt"
	"net"
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

// sub names one subscription.
type sub struct {
	kind subKind
	name string
}

// handler receives the messages of one subscription, on the subscriber's
// goroutine: it must not block.
type handler func(*redis.Message)

// subscriber multiplexes the subscriptions of every namespace of a builder
// over one Redis pub/sub connection. go-redis re-establishes the connection
// and re-subscribes by itself; the receive loop adds backoff, health
// tracking and confirmation of new subscriptions.
type subscriber struct {
	ps     *redis.PubSub
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  *counters
	log    *rateLog

	mu       sync.RWMutex
	handlers map[sub]handler
	waiters  map[string][]chan struct{} // confirmKind+" "+name

	up       atomic.Bool
	upSignal chan struct{} // closed and replaced when the connection comes up
	sigMu    sync.Mutex

	// onLost, when set, is told about subscriptions Redis ended without
	// being asked (a sharded channel whose slot moved) and about
	// connection failures (name ""). It runs on the receive goroutine.
	onLost func(name string)
}

// healthInterval is how long the receive loop waits for a message before it
// pings the connection to detect a dead link.
const healthInterval = 5 * time.Second

func newSubscriber(ps *redis.PubSub, stats *counters, log *rateLog, onLost func(string)) *subscriber {
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriber{
		ps:       ps,
		ctx:      ctx,
		cancel:   cancel,
		stats:    stats,
		log:      log,
		handlers: map[sub]handler{},
		waiters:  map[string][]chan struct{}{},
		upSignal: make(chan struct{}),
		onLost:   onLost,
	}
	s.wg.Add(1)
	go s.run()
	return s
}

// subscribe registers handlers and subscribes, waiting (bounded by ctx) for
// Redis to confirm every subscription. On timeout the subscriptions stay
// registered and go-redis establishes them when the connection comes back.
func (s *subscriber) subscribe(ctx context.Context, subs map[sub]handler) error {
	var waits []chan struct{}
	byKind := map[subKind][]string{}
	s.mu.Lock()
	for k, h := range subs {
		s.handlers[k] = h
		w := make(chan struct{})
		key := k.kind.confirmKind() + " " + k.name
		s.waiters[key] = append(s.waiters[key], w)
		waits = append(waits, w)
		byKind[k.kind] = append(byKind[k.kind], k.name)
	}
	s.mu.Unlock()
	s.stats.subscriptions.Add(int64(len(subs)))

	var errs []error
	for kind, names := range byKind {
		var err error
		switch kind {
		case kindPattern:
			err = s.ps.PSubscribe(ctx, names...)
		case kindShard:
			err = s.ps.SSubscribe(ctx, names...)
		default:
			err = s.ps.Subscribe(ctx, names...)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sioredis: subscribe: %w", errors.Join(errs...))
	}
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return fmt.Errorf("sioredis: waiting for subscription confirmation: %w", ctx.Err())
		}
	}
	return nil
}

// unsubscribe removes handlers and unsubscribes. Errors are logged: the
// connection may be down, in which case go-redis forgets the channels anyway.
func (s *subscriber) unsubscribe(ctx context.Context, subs []sub) {
	byKind := map[subKind][]string{}
	s.mu.Lock()
	for _, k := range subs {
		if _, ok := s.handlers[k]; ok {
			delete(s.handlers, k)
			s.stats.subscriptions.Add(-1)
		}
		byKind[k.kind] = append(byKind[k.kind], k.name)
	}
	s.mu.Unlock()
	for kind, names := range byKind {
		var err error
		switch kind {
		case kindPattern:
			err = s.ps.PUnsubscribe(ctx, names...)
		case kindShard:
			err = s.ps.SUnsubscribe(ctx, names...)
		default:
			err = s.ps.Unsubscribe(ctx, names...)
		}
		if err != nil {
			s.log.debug("unsubscribe failed", "channels", names, "err", err)
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

func (s *subscriber) run() {
	defer s.wg.Done()
	backoff := time.Duration(0)
	everDown := false
	for {
		msg, err := s.ps.ReceiveTimeout(s.ctx, healthInterval)
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			var rerr redis.Error
			if errors.As(err, &rerr) {
				// A server error reply (MOVED to an SUNSUBSCRIBE after a slot
				// migration, CROSSSLOT to go-redis' one-command
				// resubscription of channels of several slots): the
				// connection itself is up.
				s.log.debug("pub/sub error reply", "err", err)
				backoff = 0
				s.cameUp(&everDown)
				continue
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Quiet link: make sure it is still alive.
				if perr := s.ps.Ping(s.ctx); perr == nil {
					continue
				}
			}
			if s.up.Load() {
				s.log.warn("subscriber-down", "subscriber connection lost, reconnecting", "err", err)
			}
			s.setUp(false)
			everDown = true
			if s.onLost != nil {
				s.onLost("")
			}
			if backoff == 0 {
				backoff = 50 * time.Millisecond
			} else if backoff < 2*time.Second {
				backoff *= 2
			}
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		s.cameUp(&everDown)
		switch m := msg.(type) {
		case *redis.Subscription:
			s.confirm(m.Kind, m.Channel)
			if m.Kind == "sunsubscribe" {
				s.lostShard(m.Channel)
			}
		case *redis.Message:
			s.stats.received.Add(1)
			s.dispatch(m)
		}
	}
}

func (s *subscriber) confirm(kind, name string) {
	key := kind + " " + name
	s.mu.Lock()
	ws := s.waiters[key]
	delete(s.waiters, key)
	s.mu.Unlock()
	for _, w := range ws {
		close(w)
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
	h, ok := s.handlers[k]
	if !ok && k.kind == kindChannel {
		k.kind = kindShard
		h, ok = s.handlers[k]
	}
	s.mu.RUnlock()
	if !ok {
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
	_ = s.ps.Close()
	s.wg.Wait()
	s.mu.Lock()
	for k, ws := range s.waiters {
		for _, w := range ws {
			close(w)
		}
		delete(s.waiters, k)
	}
	s.mu.Unlock()
}

// has reports whether a handler is registered for k.
func (s *subscriber) has(k sub) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.handlers[k]
	return ok
}

// lostShard handles a SUNSUBSCRIBE we did not ask for: the channel's slot
// moved to another master. The channel is forgotten here (also inside
// go-redis, so that a reconnect does not try it on the wrong node) and the
// owner is told so that it can subscribe it where it lives now.
func (s *subscriber) lostShard(channel string) {
	k := sub{kindShard, channel}
	s.mu.Lock()
	_, wanted := s.handlers[k]
	delete(s.handlers, k)
	s.mu.Unlock()
	if !wanted {
		return
	}
	s.stats.subscriptions.Add(-1)
	ctx, cancel := context.WithTimeout(s.ctx, time.Second)
	_ = s.ps.SUnsubscribe(ctx, channel)
	cancel()
	if s.onLost != nil {
		s.onLost(channel)
	}
}

// cameUp records that the connection works. After an outage it counts the
// reconnect and, for sharded channels, subscribes each channel again with
// its own command: go-redis resubscribes all of them in one SSUBSCRIBE,
// which Redis Cluster rejects with CROSSSLOT when they span several slots.
func (s *subscriber) cameUp(everDown *bool) {
	if s.up.Load() {
		return
	}
	if *everDown {
		s.stats.reconnects.Add(1)
		s.log.info("subscriber connection restored")
		s.mu.RLock()
		var shards []string
		for k := range s.handlers {
			if k.kind == kindShard {
				shards = append(shards, k.name)
			}
		}
		s.mu.RUnlock()
		for _, ch := range shards {
			ctx, cancel := context.WithTimeout(s.ctx, time.Second)
			if err := s.ps.SSubscribe(ctx, ch); err != nil {
				s.log.debug("resubscribe failed", "channel", ch, "err", err)
			}
			cancel()
		}
	}
	s.setUp(true)
}
