package core

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// subscriptions is the hub's registry of who listens on which channel. Two
// owners can want the same channel: namespace "/a#b"'s main channel is room
// "b" of namespace "/a" (P#/a#b#), a room named after a server's uid is that
// server's private channel. Each channel is subscribed once on the
// connection, with a handler that calls every owner's handler, and is
// unsubscribed only when its last owner let go; an owner can never cut
// another one off. Owners are compared with ==: an adapter uses itself for
// its namespace channels and its wire for its room channels, so even its
// own two uses of one channel are counted apart.
type subscriptions struct {
	conn pubsubConn

	mu      sync.Mutex
	entries map[sub]*subEntry
}

// subEntry is one channel and everyone who wants it.
type subEntry struct {
	owners   map[any]handler
	handlers atomic.Pointer[[]handler] // a snapshot of owners, for dispatch
	fanout   handler                   // the one handler the connection knows
}

func newSubscriptions(conn pubsubConn) *subscriptions {
	return &subscriptions{conn: conn, entries: map[sub]*subEntry{}}
}

// subscribe adds owner's handlers and waits (bounded by ctx) until Redis
// confirmed every channel, including those another owner subscribed first
// and that are still unconfirmed.
func (s *subscriptions) subscribe(ctx context.Context, owner any, subs map[sub]handler) error {
	conn := make(map[sub]handler, len(subs))
	s.mu.Lock()
	for k, h := range subs {
		e := s.entries[k]
		if e == nil {
			e = &subEntry{owners: map[any]handler{}}
			e.fanout = func(m *redis.Message) {
				for _, h := range *e.handlers.Load() {
					h(m)
				}
			}
			s.entries[k] = e
		}
		e.owners[owner] = h
		e.publish()
		conn[k] = e.fanout
	}
	s.mu.Unlock()
	return s.conn.subscribe(ctx, conn)
}

// publish refreshes the dispatch snapshot. Called with s.mu held.
func (e *subEntry) publish() {
	hs := make([]handler, 0, len(e.owners))
	for _, h := range e.owners {
		hs = append(hs, h)
	}
	e.handlers.Store(&hs)
}

// unsubscribe removes owner's handlers and unsubscribes the channels no one
// wants any more. The connection is told under the registry's lock, so an
// unsubscribe can never overtake a later subscribe of the same channel.
func (s *subscriptions) unsubscribe(ctx context.Context, owner any, subs []sub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []sub
	for _, k := range subs {
		e := s.entries[k]
		if e == nil {
			continue
		}
		if _, ok := e.owners[owner]; !ok {
			continue
		}
		delete(e.owners, owner)
		if len(e.owners) > 0 {
			e.publish()
			continue
		}
		delete(s.entries, k)
		gone = append(gone, k)
	}
	if len(gone) > 0 {
		s.conn.unsubscribe(ctx, gone)
	}
}

// owners is the number of owners of k (tests).
func (s *subscriptions) owners(k sub) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[k]; e != nil {
		return len(e.owners)
	}
	return 0
}

func (s *subscriptions) healthy() bool                    { return s.conn.healthy() }
func (s *subscriptions) waitUp(ctx context.Context) error { return s.conn.waitUp(ctx) }
func (s *subscriptions) close()                           { s.conn.close() }
