package core

import (
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/protocol"
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
// most limit messages and limitBytes of payload (queued or taken but not
// yet applied); further ones are refused before their payload is copied.
// Its memory follows its use: an idle namespace holds no buffer, so
// thousands of dynamic namespaces cost little.
type inbox struct {
	mu           sync.Mutex
	queued       []inbound
	pending      int // queued plus taken but not yet applied
	pendingBytes int
	limit        int
	limitBytes   int           // <= 0: no byte budget
	ready        chan struct{} // holds a token while messages are queued
}

func newInbox(limit, limitBytes int) *inbox {
	return &inbox{limit: limit, limitBytes: limitBytes, ready: make(chan struct{}, 1)}
}

// inboxFull tells why reserve refused a message.
type inboxFull int

const (
	inboxRoom  inboxFull = iota // accepted
	inboxCount                  // limit messages pending
	inboxBytes                  // limitBytes pending
)

// reserve books room for a message of size bytes; push must follow a
// successful reservation.
func (q *inbox) reserve(size int) inboxFull {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.pending >= q.limit:
		return inboxCount
	case q.limitBytes > 0 && q.pendingBytes+size > q.limitBytes:
		return inboxBytes
	}
	q.pending++
	q.pendingBytes += size
	return inboxRoom
}

// push queues m, whose room was reserved.
func (q *inbox) push(m inbound) {
	q.mu.Lock()
	q.queued = append(q.queued, m)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
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

// applied records that one taken message of size bytes has been handled.
func (q *inbox) applied(size int) {
	q.mu.Lock()
	q.pending--
	q.pendingBytes -= size
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
	a.inbox = newInbox(a.cfg().InboxSize, a.cfg().InboxBytes)
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
			a.inbox.applied(len(m.payload))
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

// enqueue hands a received message to the namespace worker; kind is the
// operation when the channel tells (else 0), for the drop count. The size
// checks come before the payload is copied out of go-redis' string: a
// message over protocol.MaxMessageSize, or one the inbox's byte budget
// cannot hold, costs no copy.
func (a *Adapter) enqueue(m *redis.Message, handle func(*Adapter, []byte), kind Kind) {
	if a.closed.Load() {
		return
	}
	if a.oversized(m) {
		return
	}
	full := a.inbox.reserve(len(m.Payload))
	if full == inboxRoom {
		a.inbox.push(inbound{channel: m.Channel, payload: []byte(m.Payload), handle: handle, kind: kind})
		return
	}
	a.stats.dropped.Add(1)
	name := unknownKind
	if kind != 0 {
		name = kind.String()
	}
	a.hub.obs.Dropped(a.name, name, sioredis.DropInboxFull)
	if full == inboxBytes {
		a.stats.inboxBytesDropped.Add(1)
		a.log.warn("inbox-bytes", "namespace inbox holds its byte budget, message dropped",
			"nsp", a.name, "channel", m.Channel, "bytes", len(m.Payload), "budget", a.cfg().InboxBytes)
		return
	}
	a.log.warn("inbox-full", "namespace cannot keep up, message dropped", "nsp", a.name, "channel", m.Channel)
}

// oversized drops (counting and logging) a message larger than any
// decoder accepts, before anything copies it.
func (a *Adapter) oversized(m *redis.Message) bool {
	if len(m.Payload) <= protocol.MaxMessageSize {
		return false
	}
	a.stats.dropped.Add(1)
	a.stats.inboxBytesDropped.Add(1)
	a.log.warn("oversized", "message over the size limit dropped",
		"nsp", a.name, "channel", m.Channel, "bytes", len(m.Payload), "limit", protocol.MaxMessageSize)
	return true
}
