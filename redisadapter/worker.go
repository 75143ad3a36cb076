package redisadapter

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The namespace worker: one goroutine per namespace applies the messages
// received for it, in the order Redis delivered them.

// inbound is a message waiting for the namespace worker.
type inbound struct {
	channel string
	payload []byte
	request bool // classic: request channel; false: broadcast channel
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

// applied records that one taken message has been handled.
func (q *inbox) applied() {
	q.mu.Lock()
	q.pending--
	q.mu.Unlock()
}

func (a *Adapter) startWorker() {
	a.inbox = newInbox(a.b.cfg.inboxSize)
	a.stop = make(chan struct{})
	a.workerDone = make(chan struct{})
	go a.work()
}

func (a *Adapter) work() {
	defer close(a.workerDone)
	a.workerID.Store(goroutineID())
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
			a.safely(m.channel, func() {
				if a.sharded != nil {
					a.onClusterMessage(m.payload)
				} else if m.request {
					a.onRequest(m.payload)
				} else {
					a.onBroadcast(m.payload)
				}
			})
			a.inbox.applied()
		}
		spare = batch[:0]
		if cap(spare) > inboxKeep {
			spare = nil
		}
	}
}

// onWorker reports whether the caller runs on the namespace worker, that
// is inside a handler the worker called (a socket disconnected by a remote
// DisconnectSockets, a server-side emit listener).
func (a *Adapter) onWorker() bool {
	return a.workerID.Load() == goroutineID()
}

// goroutineID returns the id of the calling goroutine, read from the
// header of its stack trace ("goroutine 42 [running]:"). Close needs it to
// tell whether it is running on the worker it would otherwise wait for.
func goroutineID() uint64 {
	var buf [32]byte
	n := runtime.Stack(buf[:], false)
	const prefix = "goroutine "
	var id uint64
	for _, c := range buf[min(len(prefix), n):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
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

func (a *Adapter) enqueue(m inbound) {
	if a.closed.Load() {
		return
	}
	if !a.inbox.push(m) {
		a.stats.dropped.Add(1)
		a.log.warn("inbox-full", "namespace cannot keep up, message dropped", "nsp", a.name, "channel", m.channel)
	}
}

// workerState is the part of an Adapter that belongs to its worker.
type workerState struct {
	inbox      *inbox
	stop       chan struct{} // closed by Close
	workerDone chan struct{} // closed when the worker has returned
	workerID   atomic.Uint64
}
