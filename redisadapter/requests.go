package redisadapter

import (
	"errors"
	"sync"
	"time"

	"github.com/zishang520/socket.io/v2/socket"
)

// ErrTimeout is wrapped by the errors of cross-server calls that did not get
// every expected answer within their timeout.
var ErrTimeout = errors.New("sioredis: timeout reached")

// pendingRequest collects the answers to one cross-server request
// (fetchSockets, allRooms, serverSideEmit with ack).
type pendingRequest struct {
	mu       sync.Mutex
	kind     int // the request type, in the protocol family of the adapter
	expected int
	got      int
	sockets  []socket.SocketDetails
	rooms    []string
	values   []any
	done     chan struct{}
	finished bool
}

func newPendingRequest(kind, expected int) *pendingRequest {
	return &pendingRequest{kind: kind, expected: expected, done: make(chan struct{})}
}

// answer records one response; fill runs under the request's lock.
func (r *pendingRequest) answer(fill func(*pendingRequest)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	fill(r)
	r.got++
	if r.got >= r.expected {
		r.finished = true
		close(r.done)
	}
}

// wait blocks until every answer arrived, the timeout expired or stop was
// closed, then freezes the request. It reports whether all answers arrived.
func (r *pendingRequest) wait(timeout time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
	case <-stop:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	complete := r.got >= r.expected
	if !r.finished {
		r.finished = true
		close(r.done)
	}
	return complete
}

// requestTable maps request ids to pending requests.
type requestTable[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

func (t *requestTable[T]) put(id string, v T) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]T{}
	}
	t.m[id] = v
}

func (t *requestTable[T]) get(id string) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.m[id]
	return v, ok
}

func (t *requestTable[T]) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, id)
}

func (t *requestTable[T]) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// ackRequest tracks a broadcast with acknowledgements sent by this server.
//
// socket.io's BroadcastOperator reads a plain variable (its expected server
// count) from inside the callbacks and writes it after BroadcastWithAck
// returns. To keep that free of data races, BroadcastWithAck does not return
// until every callback it will ever deliver has been delivered: all client
// counts and acknowledgements, or the timeout. Callbacks that arrive later
// are dropped (the operator has timed out by then).
type ackRequest struct {
	mu              sync.Mutex
	countCb         func(uint64)
	ack             socket.Ack
	expectedServers int64
	serversHeard    int64
	expectedClients uint64
	acks            uint64
	closed          bool
	done            chan struct{}
}

func newAckRequest(countCb func(uint64), ack socket.Ack, servers int64) *ackRequest {
	return &ackRequest{countCb: countCb, ack: ack, expectedServers: servers, done: make(chan struct{})}
}

func (a *ackRequest) onCount(n uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.serversHeard++
	a.expectedClients += n
	a.countCb(n)
	a.check()
}

func (a *ackRequest) onAck(args []any, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.acks++
	a.ack(args, err)
	a.check()
}

func (a *ackRequest) check() {
	if a.serversHeard >= a.expectedServers && a.acks >= a.expectedClients {
		select {
		case <-a.done:
		default:
			close(a.done)
		}
	}
}

// wait blocks until complete, timeout or stop, then drops later callbacks.
func (a *ackRequest) wait(timeout time.Duration, stop <-chan struct{}) {
	if timeout > 0 {
		t := time.NewTimer(timeout)
		select {
		case <-a.done:
		case <-t.C:
		case <-stop:
		}
		t.Stop()
	}
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
}
