package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/sioredis/sioredis"
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
// (fetchSockets, allRooms, serverSideEmit with ack): one from each named
// member (live Go servers, by uid) and anonymous ones from the servers
// without heartbeat (see membership).
type pendingRequest struct {
	mu        sync.Mutex
	kind      Kind
	expected  int             // named plus anonymous, at the start
	waiting   map[string]bool // named members that have not answered
	anonymous int             // answers still expected from unnamed servers
	gone      []string        // named members that died or left unanswered
	got       int
	sockets   []protocol.SocketInfo
	rooms     []string
	values    []any
	tooLarge  int // fetchSockets answers marked too large
	done      chan struct{}
	finished  bool
}

func newPendingRequest(kind Kind, named []string, anonymous int) *pendingRequest {
	r := &pendingRequest{kind: kind, expected: len(named) + anonymous, waiting: map[string]bool{},
		anonymous: anonymous, done: make(chan struct{})}
	for _, uid := range named {
		r.waiting[uid] = true
	}
	return r
}

// answer records one answer of kind k from uid ("" when the responder
// does not say); fill runs under the request's lock. An answer of another
// kind than the request's is ignored and reported.
func (r *pendingRequest) answer(k Kind, uid string, fill func(*pendingRequest)) bool {
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
	if r.waiting[uid] {
		delete(r.waiting, uid)
	} else if r.anonymous > 0 {
		r.anonymous--
	}
	r.check()
	return true
}

func (r *pendingRequest) complete() bool { return len(r.waiting) == 0 && r.anonymous <= 0 }

// check finishes the request once nothing more is expected; mu is held.
func (r *pendingRequest) check() {
	if !r.finished && r.complete() {
		r.finished = true
		close(r.done)
	}
}

// memberGone stops waiting for uid.
func (r *pendingRequest) memberGone(uid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished || !r.waiting[uid] {
		return
	}
	delete(r.waiting, uid)
	r.gone = append(r.gone, uid)
	r.check()
}

// wait blocks until every answer arrived (or its server is gone), ctx is
// done or stop was closed, then freezes the request. It reports whether
// the wait ended because nothing more was expected.
func (r *pendingRequest) wait(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-r.done:
	case <-ctx.Done():
	case <-stop:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	complete := r.complete()
	if !r.finished {
		r.finished = true
		close(r.done)
	}
	return complete
}

// partial describes what is missing; err is why the wait ended. mu is
// not held.
func (r *pendingRequest) partial(err error) *sioredis.PartialError {
	r.mu.Lock()
	defer r.mu.Unlock()
	missing := slices.Clone(r.gone)
	for uid := range r.waiting {
		missing = append(missing, uid)
	}
	slices.Sort(missing)
	return &sioredis.PartialError{Op: r.kind.String(), Answered: r.got, Expected: r.expected,
		Missing: missing, Unnamed: max(r.anonymous, 0), Err: err}
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
// Redis that does not answer cannot delay them: the expected servers are
// unknown until expect, and the request cannot complete before. Servers
// are expected by uid (this one and the live Go members) or anonymously
// (servers without heartbeat, see membership); a named server that dies
// or leaves is not waited for any more, nor are its clients'
// acknowledgements.
type ackRequest struct {
	mu        sync.Mutex
	countCb   func(uint64)
	ack       func([]any, error)
	counted   bool            // expect was called
	expected  int64           // servers expected, at expect
	waiting   map[string]bool // named servers yet to report their client count
	anonymous int64           // unnamed servers yet to report
	heard     map[string]*ackTally
	gone      []string
	reported  int64 // servers that reported
	clients   uint64
	acks      uint64
	closed    bool
	done      chan struct{}
}

// outcome tells how a request that waited ended: complete, failed (the
// adapter closed or the caller canceled), partial (a server besides this
// one reported) or timeout.
func (a *ackRequest) outcome(complete, failed bool) sioredis.RequestOutcome {
	switch {
	case complete:
		return sioredis.OutcomeComplete
	case failed:
		return sioredis.OutcomeFailed
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reported > 1 { // this server's own count is one
		return sioredis.OutcomePartial
	}
	return sioredis.OutcomeTimeout
}

// ackTally is what one server reported: its client count and the
// acknowledgements that arrived from its clients.
type ackTally struct{ count, acks uint64 }

func newAckRequest(countCb func(uint64), ack func([]any, error)) *ackRequest {
	return &ackRequest{countCb: countCb, ack: ack, waiting: map[string]bool{},
		heard: map[string]*ackTally{}, done: make(chan struct{})}
}

func (a *ackRequest) tally(uid string) *ackTally {
	t := a.heard[uid]
	if t == nil {
		t = &ackTally{}
		a.heard[uid] = t
	}
	return t
}

// onCount records the client count of server uid.
func (a *ackRequest) onCount(uid string, n uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.reported++
	a.clients += n
	if a.waiting[uid] {
		delete(a.waiting, uid)
	} else if a.counted && a.anonymous > 0 {
		a.anonymous--
	}
	if uid != "" {
		a.tally(uid).count += n
	}
	a.countCb(n)
	a.check()
}

// onAck records an acknowledgement of a client of server uid.
func (a *ackRequest) onAck(uid string, args []any, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.acks++
	if uid != "" {
		a.tally(uid).acks++
	}
	a.ack(args, err)
	a.check()
}

// expect sets the servers expected to report a count: named ones (this
// server included) and anonymous ones. A named server that reported
// already (this one, served first) is not waited for again.
func (a *ackRequest) expect(named []string, anonymous int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.counted = true
	a.expected = int64(len(named) + anonymous)
	clear(a.waiting) // a second call (the publish failed) replaces the first
	for _, uid := range named {
		if a.heard[uid] == nil {
			a.waiting[uid] = true
		}
	}
	a.anonymous = int64(anonymous)
	a.check()
}

// memberGone stops waiting for server uid and for the acknowledgements
// of its clients.
func (a *ackRequest) memberGone(uid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if a.waiting[uid] {
		delete(a.waiting, uid)
		a.gone = append(a.gone, uid)
	} else if t := a.heard[uid]; t != nil && t.acks < t.count {
		a.clients -= t.count - t.acks
		t.count = t.acks
		a.gone = append(a.gone, uid)
	}
	a.check()
}

// servers is the server count to report to the operator: the servers that
// reported plus those still expected, or, when the count failed, one more
// than the servers heard from, so that the operator reports its timeout
// error rather than a success nobody can vouch for.
func (a *ackRequest) servers() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.counted {
		return a.reported + int64(len(a.waiting)) + max(a.anonymous, 0)
	}
	return a.reported + 1
}

func (a *ackRequest) complete() bool {
	return a.counted && len(a.waiting) == 0 && a.anonymous <= 0 && a.acks >= a.clients
}

func (a *ackRequest) check() {
	if a.complete() {
		select {
		case <-a.done:
		default:
			close(a.done)
		}
	}
}

// wait blocks until complete, ctx is done or stop, then drops later
// callbacks. It reports whether the request completed.
func (a *ackRequest) wait(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-a.done:
	case <-ctx.Done():
	case <-stop:
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	return a.complete()
}

// partial describes what is missing; err is why the wait ended.
func (a *ackRequest) partial(err error) *sioredis.PartialError {
	a.mu.Lock()
	defer a.mu.Unlock()
	missing := slices.Clone(a.gone)
	for uid := range a.waiting {
		missing = append(missing, uid)
	}
	slices.Sort(missing)
	return &sioredis.PartialError{Op: "broadcastWithAck", Answered: int(a.reported), Expected: int(a.expected),
		Missing: missing, Unnamed: int(max(a.anonymous, 0)), Err: err}
}
