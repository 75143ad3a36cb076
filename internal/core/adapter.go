package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/protocol"
)

// Local is what the core asks of a Socket.IO binding about the sockets of
// its own namespace. Every method gets and returns wire values
// (internal/protocol), so the core knows no Socket.IO implementation.
// Methods are called on the namespace's worker goroutine, except HasRoom
// and HasSocket, which are called on the subscriber goroutine and must not
// block.
type Local interface {
	// Broadcast delivers a packet to the local sockets selected by opts.
	Broadcast(p protocol.Packet, opts protocol.Options)
	// BroadcastWithAck delivers a packet expecting acknowledgements: count
	// is called once with the number of sockets reached, ack once per
	// acknowledgement.
	BroadcastWithAck(p protocol.Packet, opts protocol.Options, count func(uint64), ack func(v any))
	// Sockets describes the local sockets selected by opts.
	Sockets(opts protocol.Options) []protocol.SocketInfo
	// Rooms lists the local rooms, socket-id rooms included.
	Rooms() []string
	// HasRoom tells whether a local socket is in room.
	HasRoom(room string) bool
	// HasSocket tells whether id is a local socket.
	HasSocket(id string) bool
	// SocketsJoin, SocketsLeave and DisconnectSockets apply a socket
	// operation to the local sockets selected by opts.
	SocketsJoin(opts protocol.Options, rooms []string)
	SocketsLeave(opts protocol.Options, rooms []string)
	DisconnectSockets(opts protocol.Options, close bool)
	// SocketOp applies a pre-8.0 single-socket operation (join, leave or
	// disconnect of socket sid) and reports whether the socket is local.
	SocketOp(kind Kind, sid, room string, close bool) bool
	// ServerSideEmit calls the namespace's server-side handlers; reply is
	// nil when the sender expects no answer, else it must be called at most
	// once.
	ServerSideEmit(data []any, reply func(v any))
}

// OffsetLocal is implemented by a [Local] that wants the stream offset of
// the broadcasts read from a stream (connection state recovery): the core
// then calls BroadcastOffset instead of Broadcast for them.
type OffsetLocal interface {
	BroadcastOffset(p protocol.Packet, opts protocol.Options, offset string)
}

// Adapter is the socket.io-agnostic part of one namespace's adapter: it
// publishes this server's broadcasts and requests, applies the other
// servers' through [Local] and collects answers. The wire format lives
// behind the wire interface.
type Adapter struct {
	hub   *Hub
	conns // shared with the hub's other namespaces
	wire  wire
	local Local
	name  string
	uid   string
	log   *rateLog
	stats *counters
	subs  []sub

	requests requestTable[*pendingRequest]
	acks     requestTable[*ackRequest]
	members  *membership

	worker
	closed atomic.Bool

	countMu   sync.Mutex
	lastCount int64
	lastAt    time.Time
	counting  *countCall // the server count in flight, shared by its callers
}

// NewAdapter creates the adapter of namespace nsp, subscribes its channels
// and waits (at most the requests timeout) until Redis confirmed them, so
// that a message published right after the server starts is not missed.
func (h *Hub) NewAdapter(nsp string, local Local) *Adapter {
	a := &Adapter{hub: h, local: local, name: nsp, log: h.log, stats: &h.stats}
	a.wire = h.format.newWire(a)
	a.uid = a.wire.uid()
	a.members = newMembership(a)
	a.startWorker()
	a.conns = h.acquire()
	subs := a.wire.subscriptions()
	for k := range subs {
		a.subs = append(a.subs, k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.RequestsTimeout)
	defer cancel()
	if err := a.sub.subscribe(ctx, a, subs); err != nil {
		a.log.warn("subscribe", "namespace not subscribed yet; retried until Redis confirms it",
			"nsp", a.name, "err", err)
	}
	a.members.start()
	h.register(a)
	return a
}

func (a *Adapter) cfg() *Config { return &a.hub.cfg }

// Name returns the namespace.
func (a *Adapter) Name() string { return a.name }

// Uid returns the adapter's uid, unique per server and namespace.
func (a *Adapter) Uid() string { return a.uid }

// Closed reports whether Close was called.
func (a *Adapter) Closed() bool { return a.closed.Load() }

// RequestsTimeout is the configured bound of cross-server requests.
func (a *Adapter) RequestsTimeout() time.Duration { return a.cfg().RequestsTimeout }

// Close unsubscribes the namespace, fails its pending requests and stops its
// worker. It reports whether this call closed it (false when it was closed
// already). It is safe from any goroutine, the namespace's own worker
// included (a listener that calls io.Close, a remote DisconnectSockets that
// empties a dynamic namespace): a handler running on the worker finishes on
// its own, and the worker returns right after it.
func (a *Adapter) Close() bool {
	if !a.closed.CompareAndSwap(false, true) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a.hub.unregister(a)
	// The leave message goes out while the namespace is still subscribed,
	// so that no request of another server waits for this one.
	a.members.leave()
	a.wire.close(ctx)
	a.sub.unsubscribe(ctx, a, a.subs)
	a.stopWorker()
	a.hub.release()
	return true
}

// PendingRequests is the number of cross-server requests of this namespace
// still waiting for answers.
func (a *Adapter) PendingRequests() int {
	return a.requests.len() + a.acks.len()
}

// RoomCreated and RoomDeleted tell the wire about local rooms (the sharded
// dynamic modes subscribe a channel per room).
func (a *Adapter) RoomCreated(room string) { a.wire.roomChanged(room, true) }

// RoomDeleted: see [Adapter.RoomCreated].
func (a *Adapter) RoomDeleted(room string) { a.wire.roomChanged(room, false) }

// RoomChannels lists the room channels the adapter is subscribed to (nil
// where the wire subscribes none).
func (a *Adapter) RoomChannels() []string { return a.wire.roomChannels() }

// --- counting servers ---

// ServerCount returns the number of servers that have this namespace,
// this one included. A count computed in the last 200 ms is reused:
// socket.io asks for it right after every broadcast with acks, which has
// just counted. On a Redis error it logs and returns 1.
func (a *Adapter) ServerCount() int64 {
	a.countMu.Lock()
	if time.Since(a.lastAt) < 200*time.Millisecond {
		n := a.lastCount
		a.countMu.Unlock()
		return n
	}
	a.countMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg().RequestsTimeout)
	defer cancel()
	n, err := a.ServerCountContext(ctx)
	if err != nil {
		a.log.warn("server-count", "cannot count servers, assuming 1", "nsp", a.name, "err", err)
		return 1
	}
	a.rememberCount(n)
	return n
}

// ServerCountContext is ServerCount with a context and an error: this
// server, the live Go members and the servers without heartbeat that Redis
// counts (see membership), so a server declared dead or departed is not
// counted even while Redis still counts its subscription. It returns when
// ctx is done even if Redis does not answer and the client ignores
// deadlines (see countCall); the error then wraps ErrTimeout and ctx's
// error.
func (a *Adapter) ServerCountContext(ctx context.Context) (int64, error) {
	n, err := a.numSub(ctx)
	if err != nil {
		return 0, err
	}
	named, anonymous := a.members.expect(0, n)
	return 1 + int64(len(named)+anonymous), nil
}

// Members lists the live Go servers of the namespace, this one excluded,
// as their heartbeats announce them.
func (a *Adapter) Members() []sioredis.Member { return a.members.members() }

// onHeartbeatPayload decodes a heartbeat or leave message, on the
// subscriber goroutine.
func (a *Adapter) onHeartbeatPayload(channel string, payload []byte) {
	m, err := protocol.DecodeEnvelope(payload)
	if err != nil {
		a.decodeError(channel, err)
		return
	}
	switch {
	case m.UID == a.uid:
		return // our own
	case m.Nsp != a.name || m.UID == "" || m.UID == protocol.EmitterUID:
		a.stats.ignored.Add(1)
		return
	}
	switch m.Type {
	case protocol.MsgInitialHeartbeat, protocol.MsgHeartbeat, protocol.MsgAdapterClose:
		a.members.onHeartbeat(m)
	default:
		a.stats.ignored.Add(1)
	}
}

// numSub counts the subscribers of the namespace (PUBSUB NUMSUB or
// SHARDNUMSUB), at least 1 (this server).
func (a *Adapter) numSub(ctx context.Context) (int64, error) {
	c := a.startCount()
	select {
	case <-c.done:
		if c.err != nil {
			return 0, c.err
		}
		return max(c.n, 1), nil // this server counts even before its subscription is in place
	case <-ctx.Done():
		return 0, fmt.Errorf("sioredis: counting servers: %w", deadlineError(ctx.Err()))
	}
}

// countCall is one PUBSUB NUMSUB (SHARDNUMSUB) run for the callers of
// ServerCountContext. go-redis gives up on a command at its context's
// deadline only if the client was built with ContextTimeoutEnabled;
// otherwise a Redis that stopped answering holds it until the client's read
// timeout. So the count runs on a goroutine of its own and callers wait at
// most until their context is done. Concurrent callers share the count in
// flight, so a frozen Redis costs at most one such goroutine per namespace,
// which ends when go-redis gives up or the client is closed.
type countCall struct {
	done chan struct{} // closed once n and err are set
	n    int64
	err  error
}

// startCount returns the count in flight, starting one if there is none.
func (a *Adapter) startCount() *countCall {
	a.countMu.Lock()
	defer a.countMu.Unlock()
	if a.counting != nil {
		return a.counting
	}
	c := &countCall{done: make(chan struct{})}
	a.counting = c
	go a.runCount(c)
	return c
}

func (a *Adapter) runCount(c *countCall) {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg().RequestsTimeout)
	defer cancel()
	n, err := a.wire.countServers(ctx)
	c.n, c.err = n, deadlineError(err)
	a.countMu.Lock()
	a.counting = nil
	a.countMu.Unlock()
	close(c.done)
}

func (a *Adapter) rememberCount(n int64) {
	a.countMu.Lock()
	a.lastCount, a.lastAt = n, time.Now()
	a.countMu.Unlock()
}

// --- sending ---

// PublishBroadcast publishes a broadcast to the other servers (not
// waiting for Redis, as Node does not).
func (a *Adapter) PublishBroadcast(p protocol.Packet, opts protocol.Options) {
	if a.closed.Load() {
		return
	}
	if err := a.wire.publishBroadcast(p, opts, ""); err != nil {
		a.stats.publishErrors.Add(1)
		a.log.warn("encode", "broadcast not published", "nsp", a.name, "err", err)
	}
}

// PublishBroadcastOffset adds a broadcast to the stream and returns its
// entry id once Redis added it (the streams format, for connection state
// recovery). Other formats publish as PublishBroadcast and return "". An
// error is counted and logged; the caller then delivers locally without
// offset, as Node does.
func (a *Adapter) PublishBroadcastOffset(p protocol.Packet, opts protocol.Options) (string, error) {
	if a.closed.Load() {
		return "", ErrClosed
	}
	w, ok := a.wire.(*streamsWire)
	if !ok {
		a.PublishBroadcast(p, opts)
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg().RequestsTimeout)
	defer cancel()
	id, err := w.publishBroadcastOffset(ctx, p, opts)
	if err != nil {
		err = a.failed("broadcast", err)
		a.log.warn("publish", "broadcast not added to the stream", "nsp", a.name, "err", err)
		return "", err
	}
	return id, nil
}

// BroadcastFailed counts and logs a broadcast the binding could not
// convert for the wire.
func (a *Adapter) BroadcastFailed(err error) {
	a.stats.publishErrors.Add(1)
	a.log.warn("encode", "broadcast not published", "nsp", a.name, "err", err)
}

// BroadcastWithAck delivers a broadcast that expects acknowledgements to
// the local sockets (deliver), publishes it to the other servers and returns
// once every server reported its client count and every client
// acknowledged, or when timeout (none if 0) expired. countCb and ack are
// socket.io's callbacks; none is called after the return (see ackRequest).
//
// The local sockets are served first: they do not wait for the server
// count. When the count fails (Redis does not answer within the requests
// timeout), the broadcast is still published and the caller gets, at its
// timeout, the acknowledgements that arrived; ServerCount then reports one
// server more than answered, so that socket.io reports its timeout error.
func (a *Adapter) BroadcastWithAck(p protocol.Packet, opts protocol.Options, timeout time.Duration,
	deliver func(count func(uint64), ack func([]any, error)), countCb func(uint64), ack func([]any, error)) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, _ := a.broadcastWithAck(ctx, p, opts, timeout > 0, deliver, countCb, ack)
	// The operator asks ServerCount right after: answer with the count the
	// request was sent to.
	a.rememberCount(req.servers())
}

// BroadcastWithAckContext is BroadcastWithAck for Go callers: it returns
// the acknowledgements (their arguments, in arrival order) once every expected
// server and client answered. When ctx is done first, or a server it
// waited for died or left, the error is a *sioredis.PartialError (wrapping
// ErrTimeout, ctx's error or ErrServerGone) and the acknowledgements are
// those that arrived.
func (a *Adapter) BroadcastWithAckContext(ctx context.Context, p protocol.Packet, opts protocol.Options,
	deliver func(count func(uint64), ack func([]any, error))) ([]any, error) {
	var values []any // appended under the request's lock, read after wait
	req, complete := a.broadcastWithAck(ctx, p, opts, true, deliver, func(uint64) {}, func(args []any, _ error) {
		values = append(values, args...) // as socket.io's BroadcastOperator collects them
	})
	if a.closed.Load() && !complete {
		return values, fmt.Errorf("sioredis: broadcastWithAck: %w", ErrClosed)
	}
	req.mu.Lock()
	gone := len(req.gone) > 0
	req.mu.Unlock()
	if err := a.partialError(ctx, complete, req.partial, gone); err != nil {
		return values, err
	}
	return values, nil
}

func (a *Adapter) broadcastWithAck(ctx context.Context, p protocol.Packet, opts protocol.Options, wait bool,
	deliver func(count func(uint64), ack func([]any, error)), countCb func(uint64), ack func([]any, error)) (*ackRequest, bool) {
	start := time.Now()
	remote := !opts.Flags.Local && !a.closed.Load()
	req := newAckRequest(countCb, ack)
	if !remote {
		req.expect([]string{a.uid}, 0)
	}
	self := a.uid
	deliver(func(n uint64) { req.onCount(self, n) }, func(args []any, err error) { req.onAck(self, args, err) })
	var id string
	if remote {
		countBy := time.Now().Add(a.cfg().RequestsTimeout)
		if d, ok := ctx.Deadline(); ok && d.Before(countBy) {
			countBy = d
		}
		cctx, cancel := context.WithDeadline(ctx, countBy)
		n, err := a.numSub(cctx)
		cancel()
		if err != nil {
			if isTimeout(err) {
				a.stats.requestTimeouts.Add(1)
			}
			a.log.warn("server-count", "cannot count servers; publishing anyway, the acknowledgements will time out",
				"nsp", a.name, "err", err)
		}
		named, anonymous := a.members.expect(KindBroadcast, n)
		if err == nil {
			req.expect(append(named, self), anonymous)
		}
		if err != nil || len(named)+anonymous > 0 {
			id = a.wire.newRequestID()
			a.acks.put(id, req)
			a.members.register(req)
			defer a.members.unregister(req)
			if perr := a.wire.publishBroadcast(p, opts, id); perr != nil {
				a.log.warn("publish", "broadcast with ack not published", "nsp", a.name, "err", perr)
				req.expect([]string{self}, 0)
			}
		}
	}
	complete := true
	if wait {
		complete = req.wait(ctx, a.stop)
	} else {
		req.wait(doneContext, a.stop)
	}
	if id != "" {
		a.acks.remove(id)
	}
	if remote && wait {
		a.requestDone(KindBroadcast.String(), start, req.outcome(complete, a.closed.Load() || errors.Is(ctx.Err(), context.Canceled)))
	}
	return req, complete
}

// doneContext is a context that is already done.
var doneContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// PublishSocketsOp publishes a fire-and-forget socket operation (join,
// leave, disconnect). The sender applies it locally itself; the other
// servers ignore their own message.
func (a *Adapter) PublishSocketsOp(kind Kind, opts protocol.Options, rooms []string, close bool) {
	if a.closed.Load() {
		return
	}
	payload, err := a.wire.encodeRequest(&request{kind: kind, opts: opts, rooms: rooms, close: close})
	if err != nil {
		a.log.warn("encode", "socket operation not published", "nsp", a.name, "err", err)
		return
	}
	a.wire.fireAndForget(kind, payload)
}

// FetchSockets asks every other server for its sockets matching opts and
// returns theirs. When a server does not answer before ctx is done, it
// returns the sockets collected so far and an error wrapping ErrTimeout.
func (a *Adapter) FetchSockets(ctx context.Context, opts protocol.Options) ([]protocol.SocketInfo, error) {
	req, err := a.askTimed(ctx, &request{kind: KindFetchSockets, opts: opts})
	if req == nil {
		return nil, err
	}
	req.mu.Lock()
	defer req.mu.Unlock()
	if req.tooLarge > 0 {
		err = tooLargeError(req.tooLarge, err)
	}
	return req.sockets, err
}

// AllRooms returns the rooms of every other server.
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	req, err := a.askTimed(ctx, &request{kind: KindAllRooms})
	if req == nil {
		return nil, err
	}
	req.mu.Lock()
	defer req.mu.Unlock()
	return req.rooms, err
}

// ServerSideEmit sends an event to the other servers' server-side
// handlers, waiting until Redis took it.
func (a *Adapter) ServerSideEmit(ctx context.Context, data []any) error {
	payload, err := a.wire.encodeRequest(&request{kind: KindServerSideEmit, data: data})
	if err != nil {
		return fmt.Errorf("sioredis: serverSideEmit: %w", err)
	}
	if err := a.wire.publishRequest(ctx, KindServerSideEmit, payload); err != nil {
		return a.failed("serverSideEmit", err)
	}
	return nil
}

// ServerSideEmitWithAck sends an event to the other servers' server-side
// handlers and returns one answer per server. On timeout it returns the
// answers so far and an error wrapping ErrTimeout.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, data []any) ([]any, error) {
	req, err := a.askTimed(ctx, &request{kind: KindServerSideEmit, data: data, withAck: true})
	if req == nil {
		return nil, err
	}
	req.mu.Lock()
	defer req.mu.Unlock()
	return append([]any{}, req.values...), err
}

// ask counts the other servers, publishes a request to them and waits for
// their answers: one from each live Go member that answers the kind and
// one from each server without heartbeat (see membership). It returns a
// nil request when none was sent: on an error, or with no other server
// (nil error). When not every answer came, the error is a
// *sioredis.PartialError.
func (a *Adapter) ask(ctx context.Context, r *request) (*pendingRequest, error) {
	what := r.kind.String()
	// Encoded first: a request the wire format cannot carry fails even
	// without other servers.
	r.id = a.wire.newRequestID()
	payload, err := a.wire.encodeRequest(r)
	if err != nil {
		return nil, fmt.Errorf("sioredis: %s: %w", what, err)
	}
	n, err := a.numSub(ctx)
	if err != nil {
		return nil, a.failed(what, err)
	}
	named, anonymous := a.members.expect(r.kind, n)
	if len(named)+anonymous == 0 {
		return nil, nil
	}
	req := newPendingRequest(r.kind, named, anonymous)
	a.requests.put(r.id, req)
	defer a.requests.remove(r.id)
	a.members.register(req)
	defer a.members.unregister(req)
	if err := a.wire.publishRequest(ctx, r.kind, payload); err != nil {
		return req, a.failed(what, err)
	}
	complete := req.wait(ctx, a.stop)
	if !complete && a.closed.Load() {
		return req, fmt.Errorf("sioredis: %s: %w", what, ErrClosed)
	}
	req.mu.Lock()
	gone := len(req.gone) > 0
	req.mu.Unlock()
	return req, a.partialError(ctx, complete, req.partial, gone)
}

// partialError is the error of a request that waited: nil when every
// expected answer came; else a PartialError wrapping ErrServerGone (every
// server still expected answered, some died or left), ErrTimeout with
// context.DeadlineExceeded, or ctx's cancellation.
func (a *Adapter) partialError(ctx context.Context, complete bool, partial func(error) *sioredis.PartialError, gone bool) error {
	switch {
	case complete && !gone:
		return nil
	case complete:
		return partial(ErrServerGone)
	case errors.Is(ctx.Err(), context.Canceled):
		return partial(ctx.Err())
	}
	a.stats.requestTimeouts.Add(1)
	return partial(fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded))
}

// failed wraps the error of a cross-server call that failed before its
// answers were awaited (counting servers, publishing), counting timeouts.
func (a *Adapter) failed(what string, err error) error {
	err = deadlineError(err)
	if isTimeout(err) {
		a.stats.requestTimeouts.Add(1)
	}
	return fmt.Errorf("sioredis: %s: %w", what, err)
}

// --- receiving ---

// request is an operation of another server (or one of ours, outgoing),
// whatever the wire format that carried it.
type request struct {
	kind    Kind
	id      string // "" when no answer is expected
	from    string // the sender's uid, where replies go
	withAck bool   // serverSideEmit: an answer is expected
	packet  protocol.Packet
	opts    protocol.Options
	rooms   []string
	close   bool
	data    []any
	offset  string // the stream entry id of a broadcast read from a stream
}

// reply is an answer to one of our requests, or one we send.
type reply struct {
	kind    Kind // 0: the kind of the request it answers
	id      string
	from    string // the responder's uid; "" when it does not say (Node classic)
	sockets []protocol.SocketInfo
	rooms   []string
	value   any
	count   int64
	// tooLarge marks a fetchSockets answer sent without its sockets
	// (over the answerer's MaxAnswerBytes).
	tooLarge bool
}

// onRequest applies another server's operation, on the worker.
func (a *Adapter) onRequest(r *request) {
	if r.id != "" && !a.members.answers(r.kind) {
		a.stats.ignored.Add(1) // not announced: nobody waits for this answer
		return
	}
	if r.kind > 0 && r.kind <= KindAllRooms {
		a.received(r.kind.String())
	}
	switch r.kind {
	case KindBroadcast:
		if !a.broadcastable(r.packet) {
			return
		}
		opts := r.opts
		opts.Flags.Local = false
		if r.id == "" {
			if ol, ok := a.local.(OffsetLocal); ok && r.offset != "" {
				ol.BroadcastOffset(r.packet, opts, r.offset)
				return
			}
			a.local.Broadcast(r.packet, opts)
			return
		}
		id, from := r.id, r.from
		a.local.BroadcastWithAck(r.packet, opts, func(n uint64) {
			a.wire.reply(from, &reply{kind: KindBroadcastClientCount, id: id, count: int64(n)})
		}, func(v any) {
			a.wire.reply(from, &reply{kind: KindBroadcastAck, id: id, value: v})
		})
	case KindSocketsJoin:
		a.local.SocketsJoin(r.opts, r.rooms)
	case KindSocketsLeave:
		a.local.SocketsLeave(r.opts, r.rooms)
	case KindDisconnectSockets:
		a.local.DisconnectSockets(r.opts, r.close)
	case KindFetchSockets:
		a.wire.reply(r.from, &reply{kind: KindFetchSockets, id: r.id, sockets: a.local.Sockets(r.opts)})
	case KindAllRooms:
		a.wire.reply(r.from, &reply{kind: KindAllRooms, id: r.id, rooms: a.local.Rooms()})
	case KindServerSideEmit:
		if !r.withAck {
			a.local.ServerSideEmit(r.data, nil)
			return
		}
		var once sync.Once
		id, from := r.id, r.from
		a.local.ServerSideEmit(r.data, func(v any) {
			once.Do(func() { a.wire.reply(from, &reply{kind: KindServerSideEmit, id: id, value: v}) })
		})
	default:
		a.stats.ignored.Add(1)
	}
}

// waiting reports whether id is one of our requests still collecting
// answers.
func (a *Adapter) waiting(id string) bool {
	if _, ok := a.acks.get(id); ok {
		return true
	}
	_, ok := a.requests.get(id)
	return ok
}

// onReply records an answer to one of our requests, on the subscriber
// goroutine: answers only update pending requests, and handling them there
// means a request made from inside a server-side handler cannot deadlock
// the worker.
func (a *Adapter) onReply(r *reply) {
	if ack, ok := a.acks.get(r.id); ok {
		switch r.kind {
		case KindBroadcastClientCount:
			a.received(r.kind.String())
			ack.onCount(r.from, uint64(r.count))
		case KindBroadcastAck:
			a.received(r.kind.String())
			ack.onAck(r.from, []any{r.value}, nil)
		default:
			a.stats.ignored.Add(1)
		}
		return
	}
	req, ok := a.requests.get(r.id)
	if !ok {
		a.stats.ignored.Add(1)
		return
	}
	kind := r.kind
	if kind == 0 {
		kind = req.kind
	}
	var fill func(*pendingRequest)
	switch kind {
	case KindFetchSockets:
		if r.tooLarge {
			a.answerTooLarge(r.id)
		}
		fill = func(p *pendingRequest) {
			p.sockets = append(p.sockets, r.sockets...)
			if r.tooLarge {
				p.tooLarge++
			}
		}
	case KindAllRooms:
		fill = func(p *pendingRequest) { p.rooms = append(p.rooms, r.rooms...) }
	case KindServerSideEmit:
		fill = func(p *pendingRequest) { p.values = append(p.values, r.value) }
	}
	if fill == nil || kind != req.kind {
		a.stats.ignored.Add(1)
		return
	}
	// Counted first: the answer that completes the request releases its
	// caller.
	a.received(replyLabel(kind))
	req.answer(kind, r.from, fill)
}

// decodeError counts and logs an undecodable message.
func (a *Adapter) decodeError(channel string, err error) {
	a.stats.decodeErrors.Add(1)
	a.hub.obs.Undecodable(a.name)
	a.log.warn("decode:"+channel, "undecodable message dropped", "nsp", a.name, "channel", channel, "err", err)
}
