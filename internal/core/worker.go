package core

import (
	"sync"
	"sync/atomic"

	"github.com/sioredis/sioredis"
)

// The namespace worker: one goroutine per namespace applies the messages
// received for it, in the order Redis delivered them.

// inbound is a message waiting for the namespace worker.
type inbound struct {
	channel string
	payload []byte
	handle  func(*Adapter, []byte) // the wire's decoder for this channel
	kind    Kind                   // when the channel tells (else 0), for the drop count
}

// inboxKeep is the capacity of the inbox buffers a worker keeps after a
// burst; larger ones go back to the garbage collector.
const inboxKeep = 64

// inbox queues the messages of one namespace for its worker. It holds at
// most limit messages (queued or taken but not yet applied); further ones
// are refused. Its memory follows its use: an idle namespace holds no
// buffer, so thousands of dynamic namespaces cost little.
type inbox struct {
	mu      sync.Mutex
	queued  []inbound
	pending int // queued plus taken but not yet applied
	limit   int
	ready   chan struct{} // holds a token while messages are queued
}

func newInbox(limit int) *inbox {
	return &inbox{limit: limit, ready: make(chan struct{}, 1)}
}

// push queues m, or reports false when the inbox is full.
func (q *inbox) push(m inbound) bool {
	q.mu.Lock()
	if q.pending >= q.limit {
		q.mu.Unlock()
		return false
	}
	q.pending++
	q.queued = append(q.queued, m)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// take returns the queued messages in order and queues further ones in
// spare (whose contents are discarded).
func (q *inbox) take(spare []inbound) []inbound {
	q.mu.Lock()
	defer q.mu.Unlock()
	batch := q.queued
	q.queued = spare[:0]
	return batch
}

// depth is the number of messages queued or being applied.
func (q *inbox) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending
}

// applied records that one taken message has been handled.
func (q *inbox) applied() {
	q.mu.Lock()
	q.pending--
	q.mu.Unlock()
}

// worker is the part of an Adapter that belongs to its worker goroutine.
type worker struct {
	inbox *inbox
	stop  chan struct{} // closed by Close
	done  chan struct{} // closed when the worker has returned
	// busy is set while the worker runs a handler. A handler can close
	// the adapter (a listener calling io.Close, a remote DisconnectSockets
	// emptying a dynamic namespace): Close then must not wait for the
	// worker, which returns as soon as the handler does.
	busy atomic.Bool
}

func (a *Adapter) startWorker() {
	a.inbox = newInbox(a.cfg().InboxSize)
	a.stop = make(chan struct{})
	a.done = make(chan struct{})
	go a.work()
}

func (a *Adapter) work() {
	defer close(a.done)
	var spare []inbound
	for {
		select {
		case <-a.inbox.ready:
		case <-a.stop:
			return
		}
		batch := a.inbox.take(spare)
		for i := range batch {
			select {
			case <-a.stop:
				return
			default:
			}
			m := batch[i]
			batch[i] = inbound{} // the payload is garbage once applied
			a.busy.Store(true)
			a.safely(m.channel, func() { m.handle(a, m.payload) })
			a.busy.Store(false)
			a.inbox.applied()
		}
		spare = batch[:0]
		if cap(spare) > inboxKeep {
			spare = nil
		}
	}
}

// stopWorker stops the worker and waits for it, unless it is inside a
// handler (which may be the caller): that handler finishes on its own and
// the worker returns right after.
func (a *Adapter) stopWorker() {
	close(a.stop)
	if !a.busy.Load() {
		<-a.done
	}
}

// safely runs fn, turning a panic (from socket.io or a user handler) into a
// log line: one bad message must not take the server down.
func (a *Adapter) safely(channel string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			a.log.warn("panic", "panic while handling a message", "nsp", a.name, "channel", channel, "panic", r)
		}
	}()
	fn()
}

// enqueue hands a received message to the namespace worker.
func (a *Adapter) enqueue(m inbound) {
	if a.closed.Load() {
		return
	}
	if !a.inbox.push(m) {
		a.stats.dropped.Add(1)
		kind := unknownKind
		if m.kind != 0 {
			kind = m.kind.String()
		}
		a.hub.obs.Dropped(a.name, kind, sioredis.DropInboxFull)
		a.log.warn("inbox-full", "namespace cannot keep up, message dropped", "nsp", a.name, "channel", m.channel)
	}
}
