package core

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// shardSubscriber holds the SSUBSCRIBE connections of the sharded adapter.
//
// Against a single Redis node it is one connection. Against a Redis Cluster a
// sharded channel can only be subscribed on the master that owns its slot,
// so there is one connection per master, and channels are moved when their
// slot moves: Redis ends such subscriptions with an unsolicited SUNSUBSCRIBE,
// and a failed-over master disappears. Both trigger a reconcile that
// re-resolves the owner of every wanted channel and re-subscribes it there.
// A periodic reconcile catches what the notifications miss.
type shardSubscriber struct {
	rdb      redis.UniversalClient
	cc       *redis.ClusterClient // nil for a single node
	interval time.Duration        // health-check interval of each connection
	stats    *counters
	log      *rateLog

	mu    sync.Mutex
	conns map[string]*subscriber // by master address ("" for a single node)
	where map[string]string      // channel -> address it is subscribed on
	want  map[string]handler     // channel -> handler

	kick   chan struct{}
	stop   chan struct{}
	wg     sync.WaitGroup
	closed bool
}

// reconcileInterval is how often channel placement is checked against the
// cluster's slot map even without a notification.
const reconcileInterval = 2 * time.Second

func newShardSubscriber(rdb redis.UniversalClient, interval time.Duration, stats *counters, log *rateLog) *shardSubscriber {
	s := &shardSubscriber{
		rdb:      rdb,
		interval: interval,
		stats:    stats,
		log:      log,
		conns:    map[string]*subscriber{},
		where:    map[string]string{},
		want:     map[string]handler{},
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		s.cc = cc
		s.wg.Add(1)
		go s.reconcileLoop()
	}
	return s
}

// connFor returns (creating it) the connection for the master that owns
// channel. Called with s.mu held.
func (s *shardSubscriber) connFor(ctx context.Context, channel string) (*subscriber, string, error) {
	addr := ""
	l := clientLink(s.rdb, s.interval)
	if s.cc != nil {
		c, err := s.cc.MasterForKey(ctx, channel)
		if err != nil {
			return nil, "", err
		}
		addr = c.Options().Addr
		l = clientLink(c, s.interval)
		l.name = addr
	}
	if conn, ok := s.conns[addr]; ok {
		return conn, addr, nil
	}
	conn := newSubscriber(l, s.stats, s.log, s.lost)
	s.conns[addr] = conn
	return conn, addr, nil
}

func (s *shardSubscriber) lost(string) {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// subscribe SSUBSCRIBEs every channel (one command per channel, so channels
// of different slots never fail as a batch with CROSSSLOT) and waits for the
// confirmations.
func (s *shardSubscriber) subscribe(ctx context.Context, subs map[sub]handler) error {
	var errs []error
	for k, h := range subs {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		s.want[k.name] = h
		conn, addr, err := s.connFor(ctx, k.name)
		if err == nil {
			s.where[k.name] = addr
		}
		s.mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			s.lost("")
			continue
		}
		if err := conn.subscribe(ctx, map[sub]handler{{kindShard, k.name}: h}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *shardSubscriber) unsubscribe(ctx context.Context, subs []sub) {
	for _, k := range subs {
		s.mu.Lock()
		delete(s.want, k.name)
		addr, ok := s.where[k.name]
		delete(s.where, k.name)
		conn := s.conns[addr]
		s.mu.Unlock()
		if ok && conn != nil {
			conn.unsubscribe(ctx, []sub{{kindShard, k.name}})
		}
	}
}

func (s *shardSubscriber) healthy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == 0 {
		return false
	}
	for _, c := range s.conns {
		if !c.healthy() {
			return false
		}
	}
	return true
}

func (s *shardSubscriber) waitUp(ctx context.Context) error {
	for {
		if s.healthy() {
			return nil
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *shardSubscriber) reconcileLoop() {
	defer s.wg.Done()
	t := time.NewTicker(reconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.kick:
			// Let the cluster settle a little after a notification.
			select {
			case <-time.After(100 * time.Millisecond):
			case <-s.stop:
				return
			}
		}
		s.reconcile()
	}
}

// reconcile moves every wanted channel to the master that owns it now (as
// read from CLUSTER SLOTS, not from go-redis' lazily refreshed cache) and
// closes connections that serve no channel.
func (s *shardSubscriber) reconcile() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	owners, err := s.slotOwners(ctx)
	if err != nil {
		s.log.debug("reading the slot map failed", "err", err)
		return
	}
	s.cc.ReloadState(ctx)
	s.mu.Lock()
	wanted := make(map[string]handler, len(s.want))
	for ch, h := range s.want {
		wanted[ch] = h
	}
	s.mu.Unlock()
	moved := 0
	for ch, h := range wanted {
		addr := owners[keySlot(ch)]
		if addr == "" {
			continue
		}
		s.mu.Lock()
		if _, still := s.want[ch]; !still || s.closed {
			s.mu.Unlock()
			continue
		}
		old, had := s.where[ch]
		oldConn := s.conns[old]
		if had && old == addr && oldConn != nil && oldConn.has(sub{kindShard, ch}) {
			s.mu.Unlock()
			continue
		}
		conn, ok := s.conns[addr]
		if !ok {
			node, err := s.cc.MasterForKey(ctx, ch)
			if err != nil || node.Options().Addr != addr {
				// go-redis has not caught up with the new slot map yet.
				s.mu.Unlock()
				continue
			}
			l := clientLink(node, s.interval)
			l.name = addr
			conn = newSubscriber(l, s.stats, s.log, s.lost)
			s.conns[addr] = conn
		}
		s.where[ch] = addr
		s.mu.Unlock()
		if had && oldConn != nil && oldConn != conn {
			oldConn.unsubscribe(ctx, []sub{{kindShard, ch}})
		}
		if err := conn.subscribe(ctx, map[sub]handler{{kindShard, ch}: h}); err != nil {
			s.log.debug("resubscribe failed", "channel", ch, "err", err)
			continue
		}
		moved++
	}
	if moved > 0 {
		s.stats.reconnects.Add(1)
		s.log.info("sharded subscriptions moved to their new owners", "channels", moved)
	}
	// Close connections that no longer serve anything.
	s.mu.Lock()
	used := map[string]bool{}
	for _, addr := range s.where {
		used[addr] = true
	}
	var idle []*subscriber
	for addr, c := range s.conns {
		if !used[addr] {
			idle = append(idle, c)
			delete(s.conns, addr)
		}
	}
	s.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// slotOwners reads the current slot -> master address map from the first
// node that answers.
func (s *shardSubscriber) slotOwners(ctx context.Context) ([]string, error) {
	slots, err := s.cc.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	owners := make([]string, 16384)
	for _, r := range slots {
		if len(r.Nodes) == 0 {
			continue
		}
		for i := r.Start; i <= r.End && i < len(owners); i++ {
			owners[i] = r.Nodes[0].Addr
		}
	}
	return owners, nil
}

func (s *shardSubscriber) close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = map[string]*subscriber{}
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	for _, c := range conns {
		c.close()
	}
}
