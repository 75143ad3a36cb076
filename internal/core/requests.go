package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sioredis/sioredis/internal/protocol"
)

// Kind is a cross-server operation, whatever the wire format that carries
// it: each wire maps it to its own message type (a classic RequestType or a
// ClusterAdapter MessageType).
type Kind int

// The operations.
const (
	KindBroadcast Kind = iota + 1
	KindSocketsJoin
	KindSocketsLeave
	KindDisconnectSockets
	KindFetchSockets
	KindServerSideEmit
	KindAllRooms
	// Answers to a broadcast with acknowledgements.
	KindBroadcastClientCount
	KindBroadcastAck
)

var kindNames = [...]string{
	KindBroadcast:            "broadcast",
	KindSocketsJoin:          "socketsJoin",
	KindSocketsLeave:         "socketsLeave",
	KindDisconnectSockets:    "disconnectSockets",
	KindFetchSockets:         "fetchSockets",
	KindServerSideEmit:       "serverSideEmit",
	KindAllRooms:             "allRooms",
	KindBroadcastClientCount: "broadcastClientCount",
	KindBroadcastAck:         "broadcastAck",
}

// String returns the operation's name as Node's API spells it.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// deadlineError makes an error caused by an expired deadline also wrap
// ErrTimeout, so that every call that ran out of time can be recognized
// with errors.Is(err, ErrTimeout) whatever step it was at.
func deadlineError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

// pendingRequest collects the answers to one cross-server request
// (fetchSockets, allRooms, serverSideEmit with ack).
type pendingRequest struct {
	mu       sync.Mutex
	kind     Kind
	expected int
	got      int
	sockets  []protocol.SocketInfo
	rooms    []string
	values   []any
	tooLarge int // fetchSockets answers marked too large
	done     chan struct{}
	finished bool
}

func newPendingRequest(kind Kind, expected int) *pendingRequest {
	return &pendingRequest{kind: kind, expected: expected, done: make(chan struct{})}
}

// answer records one answer of kind k; fill runs under the request's lock.
// An answer of another kind than the request's is ignored and reported.
func (r *pendingRequest) answer(k Kind, fill func(*pendingRequest)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k != r.kind {
		return false
	}
	if r.finished {
		return true
	}
	fill(r)
	r.got++
	if r.got >= r.expected {
		r.finished = true
		close(r.done)
	}
	return true
}

// wait blocks until every answer arrived, ctx is done or stop was closed,
// then freezes the request. It reports whether all answers arrived.
func (r *pendingRequest) wait(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-r.done:
	case <-ctx.Done():
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
// counts and acknowledgements, or the timeout. The callbacks run under mu,
// on the caller's goroutine (local sockets) or the subscriber's (remote
// answers); callbacks that arrive after wait returned are dropped (the
// operator has timed out by then).
//
// The local sockets are served before the servers are counted, so that a
// Redis that does not answer cannot delay them: expectedServers is unknown
// (-1) until setServers, and the request cannot complete before.
type ackRequest struct {
	mu              sync.Mutex
	countCb         func(uint64)
	ack             func([]any, error)
	expectedServers int64
	serversHeard    int64
	expectedClients uint64
	acks            uint64
	closed          bool
	done            chan struct{}
}

func newAckRequest(countCb func(uint64), ack func([]any, error), servers int64) *ackRequest {
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

// setServers sets the number of servers expected to report a count.
func (a *ackRequest) setServers(n int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expectedServers = n
	a.check()
}

// servers is the server count to report to the operator: the expected one,
// or, when it is unknown (the count failed), one more than the servers heard
// from, so that the operator reports its timeout error rather than a
// success nobody can vouch for.
func (a *ackRequest) servers() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.expectedServers >= 0 {
		return a.expectedServers
	}
	return a.serversHeard + 1
}

func (a *ackRequest) check() {
	if a.expectedServers >= 0 && a.serversHeard >= a.expectedServers && a.acks >= a.expectedClients {
		select {
		case <-a.done:
		default:
			close(a.done)
		}
	}
}

// wait blocks until complete, the deadline (none if zero) or stop, then
// drops later callbacks.
func (a *ackRequest) wait(deadline time.Time, stop <-chan struct{}) {
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
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
