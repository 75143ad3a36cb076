package core

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis"
)

// publishItem is one PUBLISH, SPUBLISH or XADD (xadd set) waiting in the
// queue, or another command (cmd set). done is nil for fire-and-forget
// messages; an XADD that is waited for gets the entry id in id before done
// is signalled.
type publishItem struct {
	sharded   bool
	channel   string
	payload   []byte
	xadd      *redis.XAddArgs
	cmd       []any // any other command (SET of a session)
	id        string
	done      chan error
	nsp, kind string    // for the observer
	queued    time.Time // for the publish latency
}

// publisher owns every write to Redis pub/sub of one builder. A single
// goroutine drains the queue and sends what has accumulated as one pipeline,
// which keeps the publish order of the process (as Node's single connection
// does) and amortizes round trips under load.
type publisher struct {
	rdb     redis.UniversalClient
	queue   chan *publishItem
	stop    chan struct{}
	done    chan struct{} // closed once run has returned
	timeout time.Duration
	stats   *counters
	log     *rateLog
	obs     sioredis.Observer
	flushBy time.Time // set by close before stop is closed

	// queuedBytes is the payload bytes queued and not yet sent; a message
	// that would take it over maxBytes (when > 0) is refused.
	queuedBytes atomic.Int64
	maxBytes    int64
}

const maxBatch = 256

func newPublisher(rdb redis.UniversalClient, size, maxBytes int, timeout time.Duration, stats *counters, log *rateLog, obs sioredis.Observer) *publisher {
	p := &publisher{
		rdb:     rdb,
		queue:   make(chan *publishItem, size),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		timeout: timeout,
		stats:   stats,
		log:     log,
		obs:     obs,

		maxBytes: int64(maxBytes),
	}
	go p.run()
	return p
}

// fireAndForget queues a message of namespace nsp without waiting. A full
// queue drops it.
func (p *publisher) fireAndForget(nsp, kind string, sharded bool, channel string, payload []byte) {
	select {
	case <-p.stop:
		p.stats.publishDropped.Add(1)
		p.obs.Dropped(nsp, kind, sioredis.DropClosing)
		return
	default:
	}
	if !p.book(len(payload)) {
		p.stats.publishDropped.Add(1)
		p.obs.Dropped(nsp, kind, sioredis.DropPublishQueueFull)
		p.log.warn("publish-bytes", "publish queue holds its byte budget, message dropped",
			"channel", channel, "bytes", len(payload), "budget", p.maxBytes, "err", ErrQueueFull)
		return
	}
	select {
	case p.queue <- &publishItem{sharded: sharded, channel: channel, payload: payload, nsp: nsp, kind: kind, queued: time.Now()}:
	default:
		p.unbook(len(payload))
		p.stats.publishDropped.Add(1)
		p.obs.Dropped(nsp, kind, sioredis.DropPublishQueueFull)
		p.log.warn("publish-dropped", "publish queue full, message dropped", "channel", channel, "err", ErrQueueFull)
	}
}

// book adds n bytes to the queued bytes unless that exceeds the budget.
func (p *publisher) book(n int) bool {
	if p.maxBytes <= 0 {
		return true
	}
	if p.queuedBytes.Add(int64(n)) > p.maxBytes {
		p.queuedBytes.Add(-int64(n))
		return false
	}
	return true
}

func (p *publisher) unbook(n int) {
	if p.maxBytes > 0 {
		p.queuedBytes.Add(-int64(n))
	}
}

// publish queues a message of namespace nsp and waits until Redis accepted
// it.
func (p *publisher) publish(ctx context.Context, nsp, kind string, sharded bool, channel string, payload []byte) error {
	return p.wait(ctx, &publishItem{sharded: sharded, channel: channel, payload: payload, done: make(chan error, 1),
		nsp: nsp, kind: kind, queued: time.Now()})
}

// enqueue queues it without waiting; a full queue drops it.
func (p *publisher) enqueue(it *publishItem, what string) {
	select {
	case <-p.stop:
		p.stats.publishDropped.Add(1)
		p.obs.Dropped(it.nsp, it.kind, sioredis.DropClosing)
		return
	default:
	}
	select {
	case p.queue <- it:
	default:
		p.stats.publishDropped.Add(1)
		p.obs.Dropped(it.nsp, it.kind, sioredis.DropPublishQueueFull)
		p.log.warn("publish-dropped", "publish queue full, message dropped", "target", what, "err", ErrQueueFull)
	}
}

// xaddAsync queues an XADD of namespace nsp without waiting.
func (p *publisher) xaddAsync(nsp, kind string, args *redis.XAddArgs) {
	p.enqueue(&publishItem{channel: args.Stream, xadd: args, nsp: nsp, kind: kind, queued: time.Now()}, args.Stream)
}

// doAsync queues another command of namespace nsp (key names it in logs)
// without waiting.
func (p *publisher) doAsync(nsp, kind, key string, cmd ...any) {
	p.enqueue(&publishItem{channel: key, cmd: cmd, nsp: nsp, kind: kind, queued: time.Now()}, key)
}

// xadd queues an XADD and returns the id of the entry once Redis added it,
// in the publish order of the other messages.
func (p *publisher) xadd(ctx context.Context, nsp, kind string, args *redis.XAddArgs) (string, error) {
	it := &publishItem{channel: args.Stream, xadd: args, done: make(chan error, 1), nsp: nsp, kind: kind, queued: time.Now()}
	if err := p.wait(ctx, it); err != nil {
		return "", err
	}
	return it.id, nil
}

// syncKind marks sync's PING, which is no message: no counter or observer
// sees it.
const syncKind = "sync"

// sync returns once everything queued before it has reached Redis (a PING
// behind it in the queue is answered).
func (p *publisher) sync(ctx context.Context) error {
	return p.wait(ctx, &publishItem{channel: "sync", cmd: []any{"ping"}, done: make(chan error, 1), kind: syncKind, queued: time.Now()})
}

// wait queues it and waits for Redis's answer.
func (p *publisher) wait(ctx context.Context, it *publishItem) error {
	channel, nsp, kind, payload := it.channel, it.nsp, it.kind, it.payload
	select {
	case <-p.stop:
		return ErrClosed
	default:
	}
	if !p.book(len(payload)) {
		p.stats.publishDropped.Add(1)
		p.obs.Dropped(nsp, kind, sioredis.DropPublishQueueFull)
		return fmt.Errorf("sioredis: publish to %s: %d bytes over the queue's byte budget: %w", channel, len(payload), ErrQueueFull)
	}
	select {
	case p.queue <- it:
	case <-p.stop:
		p.unbook(len(payload))
		return ErrClosed
	default:
		p.unbook(len(payload))
		// A request behind a full queue would only wait for its own
		// timeout: fail now.
		p.stats.publishDropped.Add(1)
		p.obs.Dropped(nsp, kind, sioredis.DropPublishQueueFull)
		return fmt.Errorf("sioredis: publish to %s: %w", channel, ErrQueueFull)
	}
	select {
	case err := <-it.done:
		if err != nil {
			return fmt.Errorf("sioredis: publish to %s: %w", channel, err)
		}
		return nil
	case <-p.done:
		// Closed: flush() answered it or it was never taken.
		select {
		case err := <-it.done:
			if err != nil {
				return fmt.Errorf("sioredis: publish to %s: %w", channel, err)
			}
			return nil
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return fmt.Errorf("sioredis: publish to %s: %w", channel, ctx.Err())
	}
}

func (p *publisher) run() {
	defer close(p.done)
	batch := make([]*publishItem, 0, maxBatch)
	for {
		select {
		case it := <-p.queue:
			p.send(p.drain(append(batch[:0], it)))
		case <-p.stop:
			p.flush()
			return
		}
	}
}

// drain appends what is queued now to batch, up to maxBatch items.
func (p *publisher) drain(batch []*publishItem) []*publishItem {
	for len(batch) < maxBatch {
		select {
		case it := <-p.queue:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// flushTimeout bounds how long closing waits for queued messages to reach
// Redis; what is left then is dropped (and counted), so closing during an
// outage cannot hang.
const flushTimeout = time.Second

// flush publishes what was queued before the close (last responses and
// broadcasts) until flushTimeout after the close.
func (p *publisher) flush() {
	ctx, cancel := context.WithDeadline(context.Background(), p.flushBy)
	defer cancel()
	for {
		batch := p.drain(make([]*publishItem, 0, maxBatch))
		if len(batch) == 0 {
			return
		}
		if ctx.Err() != nil {
			for _, it := range batch {
				p.unbook(len(it.payload))
				p.stats.publishDropped.Add(1)
				p.obs.Dropped(it.nsp, it.kind, sioredis.DropClosing)
				if it.done != nil {
					it.done <- ErrClosed
				}
			}
			continue
		}
		p.sendCtx(ctx, batch)
	}
}

func (p *publisher) send(batch []*publishItem) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	p.sendCtx(ctx, batch)
}

func (p *publisher) sendCtx(ctx context.Context, batch []*publishItem) {
	var errs []error
	if len(batch) == 1 {
		errs = []error{p.one(ctx, batch[0])}
	} else {
		pipe := p.rdb.Pipeline()
		cmds := make([]redis.Cmder, len(batch))
		for i, it := range batch {
			switch {
			case it.xadd != nil:
				cmds[i] = pipe.XAdd(ctx, it.xadd)
			case it.cmd != nil:
				cmds[i] = pipe.Do(ctx, it.cmd...)
			case it.sharded:
				cmds[i] = pipe.SPublish(ctx, it.channel, it.payload)
			default:
				cmds[i] = pipe.Publish(ctx, it.channel, it.payload)
			}
		}
		_, _ = pipe.Exec(ctx)
		errs = make([]error, len(batch))
		for i, c := range cmds {
			errs[i] = c.Err()
			if x, ok := c.(*redis.StringCmd); ok && errs[i] == nil {
				batch[i].id = x.Val()
			}
		}
	}
	now := time.Now()
	for i, it := range batch {
		p.unbook(len(it.payload))
		err := errs[i]
		if it.kind == syncKind {
			it.done <- err
			continue
		}
		d := now.Sub(it.queued)
		if err != nil {
			p.stats.publishErrors.Add(1)
			if it.done == nil {
				p.log.warn("publish-error", "publish failed, message lost", "channel", it.channel, "err", err)
			}
		} else {
			p.stats.published.Add(1)
			p.stats.publishLatency.record(d)
		}
		p.obs.Published(it.nsp, it.kind, d, err)
		if it.done != nil {
			it.done <- err
		}
	}
}

func (p *publisher) one(ctx context.Context, it *publishItem) error {
	if it.xadd != nil {
		id, err := p.rdb.XAdd(ctx, it.xadd).Result()
		it.id = id
		return err
	}
	if it.cmd != nil {
		return p.rdb.Do(ctx, it.cmd...).Err()
	}
	if it.sharded {
		return p.rdb.SPublish(ctx, it.channel, it.payload).Err()
	}
	return p.rdb.Publish(ctx, it.channel, it.payload).Err()
}

// close stops the publisher, waiting at most flushTimeout for queued
// messages to reach Redis. A client without ContextTimeoutEnabled can keep
// a command waiting for a Redis that does not answer past that bound; the
// goroutine then ends when the command does (at the client's read timeout,
// or when the client is closed) and drops what is still queued.
func (p *publisher) close() {
	p.flushBy = time.Now().Add(flushTimeout)
	close(p.stop)
	t := time.NewTimer(flushTimeout + 100*time.Millisecond)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.log.warn("publisher-stuck", "closing while Redis does not answer; the last queued messages are dropped")
	}
}
