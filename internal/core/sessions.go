package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/protocol"
)

// Connection state recovery over the streams format, wire-compatible with
// Node's @socket.io/redis-streams-adapter 0.3.1: a session is stored under
// sessionKeyPrefix + pid (base64 msgpack, PX the disconnection window),
// taken back with GET + DEL in one transaction, and the packets the client
// missed are the stream's broadcasts after its offset that reached one of
// its rooms.

// PersistSession stores a disconnected socket's session for ttl. It does
// not wait for Redis: the SET goes through the publish queue, which closing
// the server flushes (socket.io persists sessions while it closes).
func (a *Adapter) PersistSession(s *protocol.Session, ttl time.Duration) error {
	if _, ok := a.wire.(*streamsWire); !ok {
		return fmt.Errorf("sioredis: persistSession: %w", ErrNotSupported)
	}
	if ttl <= 0 {
		ttl = a.cfg().Streams.MaxDisconnection
	}
	v, err := protocol.EncodeSession(s)
	if err != nil {
		return fmt.Errorf("sioredis: persistSession: %w", err)
	}
	key := a.cfg().Streams.SessionKeyPrefix + s.Pid
	a.pub.doAsync(a.name, "session", key, "set", key, v, "px", ttl.Milliseconds())
	a.stats.sessionsPersisted.Add(1)
	return nil
}

// Restored is a session taken back by [Adapter.RestoreSession]. The
// namespace's stream is held at the point the replay ends until Release is
// called (or a bound passes), so that the socket, once connected, gets
// every later broadcast live: nothing missed, nothing twice.
type Restored struct {
	Session *protocol.Session
	// Missed are the data of the missed packets, [event, args..., offset]
	// each, in stream order.
	Missed [][]any
	// Release lets the namespace apply the stream again; call it once the
	// restored socket is connected. Calling it more than once is harmless.
	Release func()
}

// RestoreSession takes back the session of pid and collects the packets
// broadcast after offset that reached it. It returns (nil, nil) when there
// is nothing to restore: an invalid offset, a session that expired or was
// already taken, an offset no longer in the stream (trimmed), or more
// missed packets than the replay bound. Errors are Redis failures.
func (a *Adapter) RestoreSession(ctx context.Context, pid, offset string) (*Restored, error) {
	w, ok := a.wire.(*streamsWire)
	if !ok {
		return nil, fmt.Errorf("sioredis: restoreSession: %w", ErrNotSupported)
	}
	if a.closed.Load() {
		return nil, ErrClosed
	}
	r, err := a.restore(ctx, w, pid, offset)
	if r == nil {
		a.stats.sessionsNotRestored.Add(1)
		if err != nil {
			a.log.warn("restore", "session not restored", "nsp", a.name, "err", err)
		}
	} else {
		a.stats.sessionsRestored.Add(1)
	}
	return r, err
}

func (a *Adapter) restore(ctx context.Context, w *streamsWire, pid, offset string) (*Restored, error) {
	if !protocol.ValidOffset(offset) {
		return nil, nil
	}
	rdb := a.hub.rdb
	key := a.cfg().Streams.SessionKeyPrefix + pid
	var get *redis.StringCmd
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Del(ctx, key)
		return nil
	}); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("sioredis: restoreSession: %w", deadlineError(err))
	}
	raw, err := get.Result()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sioredis: restoreSession: %w", err)
	}
	// This server's own broadcasts were delivered locally when emitted and
	// its reader skips them (same uid), so the replay must reach past every
	// one it queued before now: flush the publish queue, then hold the
	// namespace no earlier than the stream's last entry.
	if err := a.pub.sync(ctx); err != nil {
		return nil, fmt.Errorf("sioredis: restoreSession: %w", deadlineError(err))
	}
	var at, last *redis.XMessageSliceCmd
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		at = p.XRange(ctx, w.stream, offset, offset)
		last = p.XRevRangeN(ctx, w.stream, "+", "-", 1)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("sioredis: restoreSession: %w", deadlineError(err))
	}
	if len(at.Val()) == 0 {
		return nil, nil // trimmed: Node gives a fresh session too
	}
	s, err := protocol.DecodeSession(raw)
	if err != nil {
		a.decodeError(key, err)
		return nil, nil
	}

	// Hold the namespace at a stream position P at or after that last
	// entry: the replay is (offset, P], the live delivery takes over after
	// P once the socket is connected.
	target := offset
	if l := last.Val(); len(l) > 0 && compareIDs(l[0].ID, target) > 0 {
		target = l[0].ID
	}
	hold, err := a.holdStream(ctx, w, target)
	if err != nil {
		return nil, fmt.Errorf("sioredis: restoreSession: %w", err)
	}
	missed, ok, err := a.collectMissed(ctx, w, s.Rooms, offset, hold.pos)
	if err != nil || !ok {
		hold.release()
		return nil, err
	}
	return &Restored{Session: s, Missed: missed, Release: hold.release}, nil
}

// holdBound is how long a restore holds the namespace's stream for the
// socket to connect: the requests timeout, at least 10 s (a loaded server
// can take seconds between restoring a session and connecting the socket,
// and releasing early would lose the packets of that interval).
func (a *Adapter) holdBound() time.Duration { return max(a.cfg().RequestsTimeout, 10*time.Second) }

// HoldBound is the longest a restored session holds the namespace (see
// [Restored]).
func (a *Adapter) HoldBound() time.Duration { return a.holdBound() }

// streamHold is a namespace worker waiting at a stream position.
type streamHold struct {
	pos     string
	release func()
}

// holdStream waits until the namespace's reader has dispatched the entry
// at offset (or a later one), then queues a barrier behind what it dispatched and waits for
// the worker to reach it. The worker then waits for release, at most the
// requests timeout (a socket that never connects must not stall the
// namespace).
func (a *Adapter) holdStream(ctx context.Context, w *streamsWire, offset string) (*streamHold, error) {
	r := w.conn().reader(w.stream)
	if r == nil {
		return nil, ErrClosed
	}
	if err := r.waitStarted(ctx); err != nil {
		return nil, err
	}
	reached := make(chan struct{})
	released := make(chan struct{})
	var once sync.Once
	h := &streamHold{release: func() { once.Do(func() { close(released) }) }}
	for {
		r.mu.Lock()
		if compareIDs(r.pos, offset) >= 0 {
			h.pos = r.pos
			ok := a.inbox.reserve(0) == inboxRoom
			if ok {
				a.inbox.push(inbound{channel: w.stream, handle: func(a *Adapter, _ []byte) {
					close(reached)
					t := time.NewTimer(a.holdBound())
					defer t.Stop()
					select {
					case <-released:
					case <-t.C:
						a.log.warn("restore-hold", "a restored socket did not connect in time; live delivery resumed without it",
							"nsp", a.name, "after", a.holdBound())
					case <-a.stop:
					}
				}})
			}
			r.mu.Unlock()
			if !ok {
				return nil, fmt.Errorf("namespace inbox full: %w", ErrQueueFull)
			}
			break
		}
		r.mu.Unlock()
		// This server's reader is behind the client's offset (it came from
		// another server): wait for it.
		select {
		case <-ctx.Done():
			return nil, deadlineError(ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	select {
	case <-reached:
		return h, nil
	case <-a.stop:
		h.release()
		return nil, ErrClosed
	case <-ctx.Done():
		h.release()
		return nil, deadlineError(ctx.Err())
	}
}

// restorePage is the XRANGE COUNT of the replay.
const restorePage = 1000

// collectMissed pages through (from, to] and keeps the broadcasts of this
// namespace that reached rooms. ok is false when they exceed the replay
// bound.
func (a *Adapter) collectMissed(ctx context.Context, w *streamsWire, rooms []string, from, to string) ([][]any, bool, error) {
	var missed [][]any
	limit := a.cfg().Streams.MaxReplay
	for compareIDs(from, to) < 0 {
		page, err := a.hub.rdb.XRangeN(ctx, w.stream, nextID(from), to, restorePage).Result()
		if err != nil {
			return nil, false, deadlineError(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			from = e.ID
			if e.Values["nsp"] != a.name || e.Values["type"] != "3" {
				continue
			}
			m, err := protocol.DecodeStreamEntry(e.Values)
			if err != nil {
				a.decodeError(w.stream, err)
				continue
			}
			if m.HasRequestID || !protocol.SessionIncludes(rooms, m.Opts) {
				continue
			}
			if limit > 0 && len(missed) >= limit {
				a.log.warn("replay-bound", "session missed more packets than the replay bound; it connects fresh",
					"nsp", a.name, "bound", limit)
				return nil, false, nil
			}
			missed = append(missed, append(m.Packet.Data, e.ID))
		}
	}
	return missed, true, nil
}

// RestoreHolds keeps the Release of each restored socket, by socket id,
// until its binding sees it connected or abandoned (a middleware refused
// it, its client left). The zero value is ready to use.
type RestoreHolds struct {
	mu sync.Mutex
	m  map[string]func()
}

// Add keeps release for the socket id, releasing one already kept for it.
// A socket that never connects must not hold the namespace: the core's
// hold ends at bound by itself, and Add forgets the socket then.
func (r *RestoreHolds) Add(id string, release func(), bound time.Duration) {
	r.mu.Lock()
	if r.m == nil {
		r.m = map[string]func(){}
	}
	if prev := r.m[id]; prev != nil {
		prev()
	}
	r.m[id] = release
	r.mu.Unlock()
	time.AfterFunc(bound, func() { r.Done(id) })
}

// Done releases the hold of the socket id, if any.
func (r *RestoreHolds) Done(id string) {
	r.mu.Lock()
	release := r.m[id]
	delete(r.m, id)
	r.mu.Unlock()
	if release != nil {
		release()
	}
}
