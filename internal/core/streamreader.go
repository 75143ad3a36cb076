package core

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// streamReader reads one stream for every namespace of a hub that maps to
// it: an XREAD BLOCK loop on a connection of its own, as Node's adapter
// runs one duplicated client per stream. Unlike Node it never forgets
// where it was: it starts at the stream's last entry (Node's "$", but
// resolved once, so that nothing added between two reads is lost) and
// resumes from the last entry it read after any failure (a Redis restart,
// a failover, a frozen server), so the entries added meanwhile are read
// once, in order. When entries after its offset were trimmed (MAXLEN) or
// deleted before it read them, it reports the gap (a Warn log and
// Stats.StreamGaps) instead of skipping silently.
type streamReader struct {
	rdb    redis.UniversalClient
	stream string
	count  int64
	block  time.Duration
	stats  *counters
	log    *rateLog

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// mu orders dispatch against restores: a restore reads pos and queues
	// its barrier under it, so the barrier lands behind every entry up to
	// pos in the namespace's inbox.
	mu  sync.Mutex
	pos string // the last entry dispatched ("" before the start offset is known)
	// seen is the position of pos in the stream's entries-added count
	// (Redis 7): the reader has had every entry up to it. Trimming removed
	// entries-added - length entries; more than seen means a gap.
	seen     int64
	handlers map[string]func(id string, values map[string]any)
	started  chan struct{} // closed once pos is known

	gate func(context.Context) error

	healthy atomic.Bool
	failing bool // a read failed and none succeeded since (reader goroutine)

	connMu  sync.Mutex
	unblock *redis.Client // where CLIENT UNBLOCK goes
	connID  int64         // the reader connection's CLIENT ID, 0 when none
}

// newStreamReader starts the reader of stream. gate is waited for before
// the first dial: go-redis v9 writes its options when the first pooled
// connection finds no maintenance-notification support while a pub/sub
// dial reads them unlocked, so the reader lets the hub's subscriber
// connect first.
func newStreamReader(rdb redis.UniversalClient, stream string, cfg StreamsConfig, stats *counters, log *rateLog,
	gate func(context.Context) error) *streamReader {
	ctx, cancel := context.WithCancel(context.Background())
	block := cfg.BlockTime
	if block < time.Millisecond {
		block = time.Millisecond // BLOCK 0 would wait forever
	}
	r := &streamReader{
		rdb: rdb, stream: stream, count: max(cfg.ReadCount, 1), block: block, stats: stats, log: log,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		handlers: map[string]func(string, map[string]any){},
		started:  make(chan struct{}),
		gate:     gate,
	}
	go r.run()
	return r
}

// setHandler registers (h non-nil) or removes the handler of a namespace.
// It returns the number of namespaces left.
func (r *streamReader) setHandler(nsp string, h func(string, map[string]any)) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h == nil {
		delete(r.handlers, nsp)
	} else {
		r.handlers[nsp] = h
	}
	return len(r.handlers)
}

// waitStarted blocks until the start offset is known or ctx is done.
func (r *streamReader) waitStarted(ctx context.Context) error {
	select {
	case <-r.started:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sioredis: stream %s: reader not started: %w", r.stream, ctx.Err())
	}
}

// position returns the last entry dispatched.
func (r *streamReader) position() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pos
}

func (r *streamReader) run() {
	defer close(r.done)
	var conn *redis.Conn
	defer func() {
		if conn != nil {
			r.dropConn(conn)
		}
	}()
	if r.gate != nil && r.gate(r.ctx) != nil {
		return
	}
	var backoff time.Duration
	checkGap := false
	for r.ctx.Err() == nil {
		var err error
		if conn == nil {
			conn, err = r.dial()
		}
		if err == nil && r.position() == "" {
			err = r.start(conn)
		}
		if err == nil && checkGap {
			err = r.checkGap(conn)
		}
		var msgs []redis.XMessage
		if err == nil {
			r.readSucceeded() // connected, positioned: healthy while the read blocks
			var res []redis.XStream
			res, err = conn.XRead(r.ctx, &redis.XReadArgs{
				Streams: []string{r.stream, r.position()}, Count: r.count, Block: r.block,
			}).Result()
			if errors.Is(err, redis.Nil) {
				err = nil
			} else if err == nil && len(res) > 0 {
				msgs = res[0].Messages
			}
		}
		if r.ctx.Err() != nil {
			return
		}
		if err != nil {
			r.readFailed(err)
			if conn != nil {
				r.dropConn(conn)
				conn = nil
			}
			checkGap = true
			backoff = nextBackoff(backoff)
			select {
			case <-time.After(backoff/2 + rand.N(backoff/2+1)):
			case <-r.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		r.dispatch(msgs)
		// A full batch means the reader may be behind the writers, where
		// trimming can overtake it.
		checkGap = int64(len(msgs)) >= r.count
	}
}

// dial opens the reader's own connection (a blocking XREAD would hold a
// pooled one) and records its id so that close can unblock it.
func (r *streamReader) dial() (*redis.Conn, error) {
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	var c *redis.Client
	switch x := r.rdb.(type) {
	case *redis.Client:
		c = x
	case *redis.ClusterClient:
		var err error
		if c, err = x.MasterForKey(ctx, r.stream); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("sioredis: the streams adapter needs a *redis.Client or *redis.ClusterClient, got %T", r.rdb)
	}
	// Closed only once its XREAD returned (unblocked, answered or failed):
	// a pooled connection goes back clean, a broken one is discarded.
	conn := c.Conn()
	id, err := conn.ClientID(ctx).Result()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	r.connMu.Lock()
	r.unblock, r.connID = c, id
	r.connMu.Unlock()
	return conn, nil
}

func (r *streamReader) dropConn(conn *redis.Conn) {
	r.connMu.Lock()
	r.connID = 0
	r.connMu.Unlock()
	_ = conn.Close()
}

// streamInfo is XINFO STREAM, with a missing stream as an empty one.
func (r *streamReader) streamInfo(conn *redis.Conn) (*redis.XInfoStream, error) {
	info, err := conn.XInfoStream(r.ctx, r.stream).Result()
	if err != nil && strings.Contains(err.Error(), "no such key") {
		return &redis.XInfoStream{}, nil
	}
	return info, err
}

// start resolves the start offset: the stream's last entry, or 0-0 when
// the stream is empty or does not exist yet.
func (r *streamReader) start(conn *redis.Conn) error {
	info, err := r.streamInfo(conn)
	if err != nil {
		return err
	}
	pos := "0-0"
	if info.LastEntry.ID != "" {
		pos = info.LastEntry.ID
	}
	r.mu.Lock()
	r.pos, r.seen = pos, info.EntriesAdded
	r.mu.Unlock()
	close(r.started)
	return nil
}

// checkGap reports entries after the reader's offset that are gone: the
// stream (Redis 7) has had more entries removed (entries-added - length)
// than the reader had read. A stream that counts fewer entries than the
// reader saw was recreated (a Redis restart without persistence): the
// count starts over from what is left. Entries removed with XDEL count as
// trimmed; servers of this adapter never XDEL.
func (r *streamReader) checkGap(conn *redis.Conn) error {
	info, err := r.streamInfo(conn)
	if err != nil {
		return err
	}
	removed := info.EntriesAdded - info.Length
	r.mu.Lock()
	seen, pos := r.seen, r.pos
	switch {
	case info.EntriesAdded < seen:
		r.seen = removed
	case removed > seen:
		r.seen = removed
	}
	r.mu.Unlock()
	if info.EntriesAdded >= seen && removed > seen {
		r.stats.streamGaps.Add(1)
		r.log.l.Warn("sioredis: stream entries were trimmed before this server read them; messages lost",
			"stream", r.stream, "offset", pos, "lost", removed-seen, "firstEntry", info.FirstEntry.ID)
	}
	return nil
}

func (r *streamReader) readFailed(err error) {
	r.stats.streamReadErrors.Add(1)
	r.healthy.Store(false)
	if !r.failing {
		r.log.l.Warn("sioredis: cannot read the stream; retrying from the last offset", "stream", r.stream,
			"offset", r.position(), "err", err)
	} else {
		r.log.debug("stream read failed", "stream", r.stream, "err", err)
	}
	r.failing = true
}

func (r *streamReader) readSucceeded() {
	if r.failing {
		r.log.info("stream reader resumed", "stream", r.stream, "offset", r.position())
	}
	r.failing = false
	r.healthy.Store(true)
}

// dispatch hands each entry to its namespace, in stream order.
func (r *streamReader) dispatch(msgs []redis.XMessage) {
	if len(msgs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		r.pos = m.ID
		r.seen++
		r.stats.received.Add(1)
		nsp, _ := m.Values["nsp"].(string)
		if nsp == "" {
			r.stats.decodeErrors.Add(1)
			r.log.warn("decode:"+r.stream, "stream entry without nsp dropped", "stream", r.stream, "id", m.ID)
			continue
		}
		h := r.handlers[nsp]
		if h == nil {
			r.stats.ignored.Add(1)
			continue
		}
		h(m.ID, m.Values)
	}
}

// close stops the reader: it cancels the loop and unblocks its XREAD with
// CLIENT UNBLOCK, waiting at most a second (a Redis that does not answer
// keeps the goroutine until the read times out).
func (r *streamReader) close() {
	r.cancel()
	r.connMu.Lock()
	c, id := r.unblock, r.connID
	r.connMu.Unlock()
	if id != 0 {
		// Not waited for: a frozen Redis holds it until the read timeout.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = c.ClientUnblock(ctx, id).Err()
			cancel()
		}()
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
		r.log.warn("reader-stuck", "closing while Redis does not answer; the stream reader ends at its read timeout",
			"stream", r.stream)
	}
}

// compareIDs orders two stream entry ids ("ms-seq").
func compareIDs(a, b string) int {
	am, as := splitID(a)
	bm, bs := splitID(b)
	switch {
	case am != bm:
		if am < bm {
			return -1
		}
		return 1
	case as != bs:
		if as < bs {
			return -1
		}
		return 1
	}
	return 0
}

func splitID(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	s, _ := strconv.ParseUint(seq, 10, 64)
	return m, s
}

// nextID is the smallest id after id (an exclusive XRANGE start that also
// works before Redis 6.2, as Node's nextOffset).
func nextID(id string) string {
	m, s := splitID(id)
	return strconv.FormatUint(m, 10) + "-" + strconv.FormatUint(s+1, 10)
}
