package redisadapter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/protocol"
)

// Adapter is the socket.io adapter of one namespace. Besides the
// socket.Adapter methods it offers [Adapter.AllRooms] and
// [Adapter.ServerCountContext]; reach it with
// io.Of("/").Adapter().(*redisadapter.Adapter).
type Adapter struct {
	socket.Adapter // the in-memory adapter: local rooms and delivery

	b        *Builder
	shared                 // connections shared with the builder's other namespaces
	sharded  *shardedState // nil for the classic protocol
	name     string
	uid      string
	log      *rateLog
	stats    *counters
	subs     []sub
	requests requestTable[*pendingRequest]
	acks     requestTable[*ackRequest]

	handshakes handshakeCache // encoded handshakes of local sockets (fetchSockets)

	// channels (classic)
	bcastChan, reqChan, respChan, specificRespChan string

	workerState
	closed atomic.Bool

	countMu   sync.Mutex
	lastCount int64
	lastAt    time.Time
	counting  *countCall // the server count in flight, shared by its callers
}

func newClassicAdapter(b *Builder, nsp socket.Namespace) *Adapter {
	a := &Adapter{Adapter: socket.MakeAdapter(), b: b, log: b.log, stats: &b.stats}
	a.Prototype(a)
	a.Construct(nsp)
	a.name = nsp.Name()
	a.uid = protocol.NewClassicUID()
	key := b.cfg.key
	a.bcastChan = protocol.BroadcastChannel(key, a.name)
	a.reqChan = protocol.RequestChannel(key, a.name)
	a.respChan = protocol.ResponseChannel(key, a.name)
	a.specificRespChan = protocol.SpecificResponseChannel(key, a.name, a.uid)
	a.startWorker()

	a.shared = b.acquire()
	subs := map[sub]handler{
		{kindPattern, protocol.BroadcastPattern(key, a.name)}: a.onBroadcastMessage,
		{kindChannel, a.reqChan}:                              a.onRequestMessage,
		{kindChannel, a.respChan}:                             a.onResponseMessage,
		{kindChannel, a.specificRespChan}:                     a.onResponseMessage,
	}
	for k := range subs {
		a.subs = append(a.subs, k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.requestsTimeout)
	defer cancel()
	if err := a.sub.subscribe(ctx, subs); err != nil {
		a.log.warn("subscribe", "namespace not subscribed yet; it will be once Redis is reachable",
			"nsp", a.name, "err", err)
	}
	return a
}

// Uid returns the adapter's uid, unique per server and namespace.
func (a *Adapter) Uid() string { return a.uid }

// Close unsubscribes the namespace, fails its pending requests and stops its
// worker. socket.io calls it from io.Close and when it removes an empty
// child namespace. It is safe from any goroutine, the namespace's own worker
// included (a listener that calls io.Close, a remote DisconnectSockets that
// empties a dynamic namespace): there it does not wait for the worker, which
// returns as soon as the handler that called Close does.
func (a *Adapter) Close() {
	if !a.closed.CompareAndSwap(false, true) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if a.sub != nil {
		a.sub.unsubscribe(ctx, a.subs)
	}
	if a.shardSub != nil && a.sharded != nil {
		a.sharded.closeRooms()
		a.shardSub.unsubscribe(ctx, a.subs)
	}
	close(a.stop)
	if !a.onWorker() {
		<-a.workerDone
	}
	a.handshakes.clear()
	a.b.release()
	a.Adapter.Close()
}

// ServerCount returns the number of servers that have this namespace,
// this one included (PUBSUB NUMSUB, or SHARDNUMSUB for the sharded adapter,
// summed over a Redis Cluster). A count computed in the last 200 ms is
// reused: socket.io asks for it right after every broadcast with acks, which
// has just counted. On a Redis error it logs and returns 1; use
// [Adapter.ServerCountContext] to see the error.
func (a *Adapter) ServerCount() int64 {
	a.countMu.Lock()
	if time.Since(a.lastAt) < 200*time.Millisecond {
		n := a.lastCount
		a.countMu.Unlock()
		return n
	}
	a.countMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), a.b.cfg.requestsTimeout)
	defer cancel()
	n, err := a.ServerCountContext(ctx)
	if err != nil {
		a.log.warn("server-count", "cannot count servers, assuming 1", "nsp", a.name, "err", err)
		return 1
	}
	return n
}

// ServerCountContext is ServerCount with a context and an error. It
// returns when ctx is done even if Redis does not answer and the client
// ignores deadlines (see countCall); the error then wraps ErrTimeout and
// ctx's error.
func (a *Adapter) ServerCountContext(ctx context.Context) (int64, error) {
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
	ctx, cancel := context.WithTimeout(context.Background(), a.b.cfg.requestsTimeout)
	defer cancel()
	var n int64
	var err error
	if a.sharded != nil {
		n, err = numSub(ctx, a.b.rdb, a.bcastChan, true)
	} else {
		n, err = numSub(ctx, a.b.rdb, a.reqChan, false)
	}
	c.n, c.err = n, deadlineError(err)
	a.countMu.Lock()
	a.counting = nil
	if err == nil {
		a.lastCount, a.lastAt = max(n, 1), time.Now()
	}
	a.countMu.Unlock()
	close(c.done)
}

func (a *Adapter) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.b.cfg.requestsTimeout)
}

func isLocal(opts *socket.BroadcastOptions) bool {
	return opts != nil && opts.Flags != nil && opts.Flags.Local
}

func withNonNilSets(opts *socket.BroadcastOptions) *socket.BroadcastOptions {
	if opts == nil {
		opts = &socket.BroadcastOptions{}
	}
	if opts.Rooms == nil || opts.Except == nil {
		o := *opts
		if o.Rooms == nil {
			o.Rooms = types.NewSet[socket.Room]()
		}
		if o.Except == nil {
			o.Except = types.NewSet[socket.Room]()
		}
		opts = &o
	}
	return opts
}

// Broadcast publishes the packet to the other servers (unless flagged
// local), then delivers it to the local sockets.
func (a *Adapter) Broadcast(p *parser.Packet, opts *socket.BroadcastOptions) {
	opts = withNonNilSets(opts)
	if !isLocal(opts) && !a.closed.Load() {
		if err := a.publishBroadcast(p, opts); err != nil {
			a.stats.publishErrors.Add(1)
			a.log.warn("encode", "broadcast not published", "nsp", a.name, "err", err)
		}
	}
	a.deliver(p, opts)
}

func (a *Adapter) publishBroadcast(p *parser.Packet, opts *socket.BroadcastOptions) error {
	wp, err := protocol.PacketFromSocket(p)
	if err != nil {
		return err
	}
	wo := protocol.OptionsFromSocket(opts)
	if a.sharded != nil {
		return a.publishClusterBroadcast(wp, wo, "")
	}
	wp.Nsp = a.name
	payload, err := protocol.EncodeBroadcast(&protocol.Broadcast{UID: a.uid, Packet: wp, Opts: wo})
	if err != nil {
		return err
	}
	a.pub.fireAndForget(false, protocol.BroadcastChannelFor(a.b.cfg.key, a.name, wo.Rooms), payload)
	return nil
}

// BroadcastWithAck delivers a broadcast that expects acknowledgements to the
// local sockets, publishes it to the other servers and returns once every
// server reported its client count and every client acknowledged, or when
// the flags' timeout expired. Blocking keeps socket.io's BroadcastOperator
// free of data races (see ackRequest); its callback is then called on the
// caller's goroutine.
//
// The local sockets are served first: they do not wait for the server
// count. When the count fails (Redis does not answer within the requests
// timeout), the broadcast is still published and the operator gets, at its
// timeout, the acknowledgements that arrived, with socket.io's timeout
// error.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, countCb func(uint64), ack socket.Ack) {
	opts = withNonNilSets(opts)
	var timeout time.Duration
	if opts.Flags != nil && opts.Flags.Timeout != nil {
		timeout = *opts.Flags.Timeout
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	remote := !isLocal(opts) && !a.closed.Load()
	servers := int64(1)
	if remote {
		servers = -1 // not counted yet
	}
	req := newAckRequest(countCb, ack, servers)
	// Local delivery sets the packet's ack id and namespace: give it a copy,
	// so that what is published is what the caller passed.
	local := *p
	a.deliverWithAck(&local, opts, req.onCount, req.onAck)
	var id string
	if remote {
		countBy := time.Now().Add(a.b.cfg.requestsTimeout)
		if !deadline.IsZero() && deadline.Before(countBy) {
			countBy = deadline
		}
		ctx, cancel := context.WithDeadline(context.Background(), countBy)
		n, err := a.ServerCountContext(ctx)
		cancel()
		if err != nil {
			if isTimeout(err) {
				a.stats.requestTimeouts.Add(1)
			}
			a.log.warn("server-count", "cannot count servers; publishing anyway, the acknowledgements will time out",
				"nsp", a.name, "err", err)
		}
		if err != nil || n > 1 {
			id = a.newRequestID()
			a.acks.put(id, req)
			if perr := a.publishBroadcastWithAck(p, opts, id); perr != nil {
				a.log.warn("publish", "broadcast with ack not published", "nsp", a.name, "err", perr)
				n, err = 1, nil
			}
		}
		if err == nil {
			req.setServers(n)
		}
	}
	req.wait(deadline, a.stop)
	if id != "" {
		a.acks.remove(id)
	}
	// The operator asks ServerCount right after: answer with the count the
	// request was sent to.
	n := req.servers()
	a.countMu.Lock()
	a.lastCount, a.lastAt = n, time.Now()
	a.countMu.Unlock()
}

func (a *Adapter) newRequestID() string {
	if a.sharded != nil {
		return protocol.NewClusterUID()
	}
	return protocol.NewRequestID()
}

func (a *Adapter) publishBroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, id string) error {
	wp, err := protocol.PacketFromSocket(p)
	if err != nil {
		return err
	}
	wo := protocol.OptionsFromSocket(opts)
	if a.sharded != nil {
		return a.publishClusterBroadcast(wp, wo, id)
	}
	wp.Nsp = a.name
	payload, err := protocol.EncodeRequest(&protocol.Request{
		UID: a.uid, RequestID: id, Type: protocol.RequestBroadcast, Packet: wp, Opts: wo,
	})
	if err != nil {
		return err
	}
	a.pub.fireAndForget(false, a.reqChan, payload)
	return nil
}

// FetchSockets returns the matching sockets of every server. The callback is
// called before the returned function returns. When the call does not
// complete within the requests timeout (or the flags' timeout, if set),
// because a server does not answer or Redis itself does not, the callback
// gets the sockets collected so far together with an error wrapping
// ErrTimeout.
func (a *Adapter) FetchSockets(opts *socket.BroadcastOptions) func(func([]socket.SocketDetails, error)) {
	return func(cb func([]socket.SocketDetails, error)) {
		opts := withNonNilSets(opts)
		var local []socket.SocketDetails
		a.Adapter.FetchSockets(opts)(func(s []socket.SocketDetails, _ error) { local = s })
		if isLocal(opts) || a.closed.Load() {
			cb(local, nil)
			return
		}
		timeout := a.b.cfg.requestsTimeout
		if opts.Flags != nil && opts.Flags.Timeout != nil && *opts.Flags.Timeout > 0 {
			timeout = *opts.Flags.Timeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		n, err := a.ServerCountContext(ctx)
		if err != nil {
			cb(local, a.failed("fetchSockets", err))
			return
		}
		if n <= 1 {
			cb(local, nil)
			return
		}
		wo := protocol.OptionsFromSocket(opts)
		id := a.newRequestID()
		req := newPendingRequest(int(protocol.RequestRemoteFetch), int(n-1))
		req.sockets = local
		var payload []byte
		if a.sharded != nil {
			req.kind = int(protocol.MsgFetchSockets)
			payload, err = a.encodeCluster(&protocol.ClusterMessage{Type: protocol.MsgFetchSockets, RequestID: id, Opts: wo})
		} else {
			payload, err = protocol.EncodeRequest(&protocol.Request{UID: a.uid, RequestID: id, Type: protocol.RequestRemoteFetch, Opts: wo})
		}
		if err != nil {
			cb(local, fmt.Errorf("sioredis: fetchSockets: %w", err))
			return
		}
		sockets, err := a.request(ctx, id, req, payload, "fetchSockets")
		cb(sockets.sockets, err)
	}
}

// request publishes a request, waits (until ctx is done) for its answers
// and returns the (possibly partial) collected state.
func (a *Adapter) request(ctx context.Context, id string, req *pendingRequest, payload []byte, what string) (*pendingRequest, error) {
	a.requests.put(id, req)
	defer a.requests.remove(id)
	if err := a.pub.publish(ctx, a.sharded != nil, a.requestChannel(), payload); err != nil {
		return req, a.failed(what, err)
	}
	if !req.wait(ctx, a.stop) {
		if a.closed.Load() {
			return req, fmt.Errorf("sioredis: %s: %w", what, ErrClosed)
		}
		req.mu.Lock()
		got, want := req.got, req.expected
		req.mu.Unlock()
		if errors.Is(ctx.Err(), context.Canceled) {
			return req, fmt.Errorf("sioredis: %s: %d of %d servers answered: %w", what, got, want, ctx.Err())
		}
		a.stats.requestTimeouts.Add(1)
		return req, fmt.Errorf("%w while waiting for %s responses: %d of %d servers answered: %w",
			ErrTimeout, what, got, want, context.DeadlineExceeded)
	}
	return req, nil
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

func (a *Adapter) requestChannel() string {
	if a.sharded != nil {
		return a.bcastChan
	}
	return a.reqChan
}

// AllRooms returns the rooms of every server of the cluster, socket-id rooms
// included, like Node's adapter.allRooms(). On timeout it returns the rooms
// collected so far with an error wrapping ErrTimeout. The sharded protocol
// has no such request: there it returns the local rooms and an error.
func (a *Adapter) AllRooms(ctx context.Context) (*types.Set[socket.Room], error) {
	rooms := types.NewSet[socket.Room]()
	a.Rooms().Range(func(r socket.Room, _ *types.Set[socket.SocketId]) bool {
		rooms.Add(r)
		return true
	})
	if a.sharded != nil {
		return rooms, fmt.Errorf("sioredis: allRooms is not supported by the sharded protocol")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.b.cfg.requestsTimeout)
		defer cancel()
	}
	n, err := a.ServerCountContext(ctx)
	if err != nil {
		return rooms, a.failed("allRooms", err)
	}
	if n <= 1 {
		return rooms, nil
	}
	id := a.newRequestID()
	req := newPendingRequest(int(protocol.RequestAllRooms), int(n-1))
	payload, err := protocol.EncodeRequest(&protocol.Request{UID: a.uid, RequestID: id, Type: protocol.RequestAllRooms})
	if err != nil {
		return rooms, err
	}
	res, err := a.request(ctx, id, req, payload, "allRooms")
	res.mu.Lock()
	for _, r := range res.rooms {
		rooms.Add(socket.Room(r))
	}
	res.mu.Unlock()
	return rooms, err
}

// The socket operations publish before they apply their local part: the
// local part can close the adapter (disconnecting the last socket of a
// dynamic namespace removes it), after which nothing is published.

// AddSockets makes the matching sockets of every server join rooms.
func (a *Adapter) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	opts = withNonNilSets(opts)
	if !isLocal(opts) {
		a.publishSocketsOp(protocol.RequestRemoteJoin, protocol.MsgSocketsJoin, opts, protocol.Rooms(rooms), false)
	}
	a.Adapter.AddSockets(opts, rooms)
}

// DelSockets makes the matching sockets of every server leave rooms.
func (a *Adapter) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	opts = withNonNilSets(opts)
	if !isLocal(opts) {
		a.publishSocketsOp(protocol.RequestRemoteLeave, protocol.MsgSocketsLeave, opts, protocol.Rooms(rooms), false)
	}
	a.Adapter.DelSockets(opts, rooms)
}

// DisconnectSockets disconnects the matching sockets of every server.
func (a *Adapter) DisconnectSockets(opts *socket.BroadcastOptions, close bool) {
	opts = withNonNilSets(opts)
	if !isLocal(opts) {
		a.publishSocketsOp(protocol.RequestRemoteDisconnect, protocol.MsgDisconnectSockets, opts, nil, close)
	}
	a.Adapter.DisconnectSockets(opts, close)
}

// publishSocketsOp publishes a fire-and-forget socket operation. The server
// ignores its own message: it applies the local part itself.
func (a *Adapter) publishSocketsOp(rt protocol.RequestType, mt protocol.MessageType, opts *socket.BroadcastOptions, rooms []string, close bool) {
	if a.closed.Load() {
		return
	}
	wo := protocol.OptionsFromSocket(opts)
	var payload []byte
	var err error
	if a.sharded != nil {
		payload, err = a.encodeCluster(&protocol.ClusterMessage{Type: mt, Opts: wo, Rooms: rooms, Close: close})
	} else {
		payload, err = protocol.EncodeRequest(&protocol.Request{UID: a.uid, Type: rt, Opts: wo, Rooms: rooms, Close: close})
	}
	if err != nil {
		a.log.warn("encode", "socket operation not published", "nsp", a.name, "err", err)
		return
	}
	a.pub.fireAndForget(a.sharded != nil, a.requestChannel(), payload)
}

// ServerSideEmit sends an event to the other servers of the cluster. When
// the last element of packet is a socket.Ack, it waits (at most the requests
// timeout) for one answer per other server and calls the ack with one value
// per server before returning; on timeout the ack gets the answers so far and
// an error wrapping ErrTimeout. Publishing errors are returned (and given to
// the ack).
func (a *Adapter) ServerSideEmit(packet []any) error {
	if len(packet) == 0 {
		return fmt.Errorf("sioredis: serverSideEmit: no event name")
	}
	ack, withAck := packet[len(packet)-1].(socket.Ack)
	if !withAck {
		if f, ok := packet[len(packet)-1].(func([]any, error)); ok {
			ack, withAck = f, true
		}
	}
	data := packet
	if withAck {
		data = packet[:len(packet)-1]
	}
	w, err := protocol.ToWire(data)
	if err != nil {
		err = fmt.Errorf("sioredis: serverSideEmit: %w", err)
		if withAck {
			ack(nil, err)
		}
		return err
	}
	wd := w.([]any)
	ctx, cancel := a.ctx()
	defer cancel()
	if !withAck {
		payload, err := a.encodeServerSideEmit(wd, "")
		if err == nil {
			err = a.pub.publish(ctx, a.sharded != nil, a.requestChannel(), payload)
		}
		if err != nil {
			return a.failed("serverSideEmit", err)
		}
		return nil
	}
	n, err := a.ServerCountContext(ctx)
	if err != nil {
		err = a.failed("serverSideEmit", err)
		ack(nil, err)
		return err
	}
	if n <= 1 {
		ack([]any{}, nil)
		return nil
	}
	id := a.newRequestID()
	payload, err := a.encodeServerSideEmit(wd, id)
	if err != nil {
		ack(nil, err)
		return err
	}
	kind := int(protocol.RequestServerSideEmit)
	if a.sharded != nil {
		kind = int(protocol.MsgServerSideEmit)
	}
	req := newPendingRequest(kind, int(n-1))
	res, err := a.request(ctx, id, req, payload, "serverSideEmit")
	res.mu.Lock()
	values := append([]any{}, res.values...)
	res.mu.Unlock()
	ack(values, err)
	if err != nil && !isTimeout(err) {
		return err
	}
	return nil
}

func (a *Adapter) encodeServerSideEmit(data []any, id string) ([]byte, error) {
	if a.sharded != nil {
		return a.encodeCluster(&protocol.ClusterMessage{Type: protocol.MsgServerSideEmit, RequestID: id, EmitData: data})
	}
	return protocol.EncodeRequest(&protocol.Request{UID: a.uid, RequestID: id, Type: protocol.RequestServerSideEmit, Data: data})
}

// --- receiving (classic) ---

func (a *Adapter) onBroadcastMessage(m *redis.Message) {
	room, ok := protocol.RoomFromChannel(a.b.cfg.key, a.name, m.Channel)
	if !ok {
		a.stats.ignored.Add(1)
		return
	}
	if room != "" {
		if _, ok := a.Rooms().Load(socket.Room(room)); !ok {
			// No local member: drop without decoding, as Node does.
			a.stats.ignored.Add(1)
			return
		}
	}
	a.enqueue(inbound{channel: m.Channel, payload: []byte(m.Payload)})
}

func (a *Adapter) onRequestMessage(m *redis.Message) {
	a.enqueue(inbound{channel: m.Channel, payload: []byte(m.Payload), request: true})
}

func (a *Adapter) decodeError(channel string, err error) {
	a.stats.decodeErrors.Add(1)
	a.log.warn("decode:"+channel, "undecodable message dropped", "nsp", a.name, "channel", channel, "err", err)
}

func (a *Adapter) onBroadcast(payload []byte) {
	msg, err := protocol.DecodeBroadcast(payload)
	if err != nil {
		a.decodeError(a.bcastChan, err)
		return
	}
	if msg.UID == a.uid || msg.Packet.Nsp != a.name {
		a.stats.ignored.Add(1)
		return
	}
	opts := msg.Opts.SocketOptions()
	opts.Flags.Local = false
	a.deliver(msg.Packet.SocketPacket(a.name), opts)
}

func (a *Adapter) respond(r *protocol.Response, uid string, shared bool) {
	payload, err := protocol.EncodeResponse(r)
	if err != nil {
		a.log.warn("encode", "response not published", "nsp", a.name, "err", err)
		return
	}
	ch := a.respChan
	if a.b.cfg.publishOnSpecificChannel && !shared && uid != "" {
		ch = protocol.SpecificResponseChannel(a.b.cfg.key, a.name, uid)
	}
	a.pub.fireAndForget(false, ch, payload)
}

func (a *Adapter) onRequest(payload []byte) {
	r, err := protocol.DecodeRequest(payload)
	if err != nil {
		a.decodeError(a.reqChan, err)
		return
	}
	switch r.Type {
	case protocol.RequestAllRooms:
		if _, mine := a.requests.get(r.RequestID); mine || r.UID == a.uid {
			return
		}
		rooms := []string{}
		a.Rooms().Range(func(room socket.Room, _ *types.Set[socket.SocketId]) bool {
			rooms = append(rooms, string(room))
			return true
		})
		a.respond(&protocol.Response{Type: r.Type, RequestID: r.RequestID, Rooms: rooms}, r.UID, false)

	case protocol.RequestRemoteJoin, protocol.RequestRemoteLeave, protocol.RequestRemoteDisconnect:
		if r.Legacy {
			a.onLegacySocketOp(r)
			return
		}
		if r.UID == a.uid {
			return // applied locally when sent
		}
		opts := r.Opts.SocketOptions()
		switch r.Type {
		case protocol.RequestRemoteJoin:
			a.Adapter.AddSockets(opts, toRooms(r.Rooms))
		case protocol.RequestRemoteLeave:
			a.Adapter.DelSockets(opts, toRooms(r.Rooms))
		default:
			a.Adapter.DisconnectSockets(opts, r.Close)
		}

	case protocol.RequestRemoteFetch:
		if _, mine := a.requests.get(r.RequestID); mine || r.UID == a.uid {
			return
		}
		var local []socket.SocketDetails
		a.Adapter.FetchSockets(r.Opts.SocketOptions())(func(s []socket.SocketDetails, _ error) { local = s })
		infos := a.describe(local)
		// msgpack: half the decoding cost of JSON for the requester (Go or
		// Node: both accept either on response channels).
		a.respond(&protocol.Response{Type: r.Type, RequestID: r.RequestID, Sockets: infos, Msgpack: true}, r.UID, false)

	case protocol.RequestServerSideEmit:
		if r.UID == a.uid {
			return
		}
		if !r.HasRequestID {
			a.Nsp().OnServerSideEmit(r.Data)
			return
		}
		var once sync.Once
		reply := socket.Ack(func(args []any, _ error) {
			once.Do(func() {
				var v any
				if len(args) > 0 {
					v = args[0]
				}
				a.respond(&protocol.Response{Type: protocol.RequestServerSideEmit, RequestID: r.RequestID, Data: v}, r.UID, true)
			})
		})
		a.Nsp().OnServerSideEmit(append(r.Data, reply))

	case protocol.RequestBroadcast:
		if _, mine := a.acks.get(r.RequestID); mine || r.UID == a.uid {
			return
		}
		opts := r.Opts.SocketOptions()
		opts.Flags.Local = false
		id, uid := r.RequestID, r.UID
		a.deliverWithAck(r.Packet.SocketPacket(a.name), opts, func(n uint64) {
			a.respond(&protocol.Response{Type: protocol.RequestBroadcastClientCount, RequestID: id, ClientCount: int64(n)}, uid, false)
		}, func(args []any, err error) {
			if err != nil {
				return
			}
			var v any
			if len(args) > 0 {
				v = args[0]
			}
			a.respond(&protocol.Response{Type: protocol.RequestBroadcastAck, RequestID: id, Ack: v}, uid, false)
		})

	default:
		a.stats.ignored.Add(1)
	}
}

// onLegacySocketOp serves the pre-8.0 single-socket join/leave/disconnect
// requests: only the server that owns the socket acts and answers.
func (a *Adapter) onLegacySocketOp(r *protocol.Request) {
	s, ok := a.Nsp().Sockets().Load(socket.SocketId(r.Sid))
	if !ok {
		return
	}
	switch r.Type {
	case protocol.RequestRemoteJoin:
		s.Join(socket.Room(r.Room))
	case protocol.RequestRemoteLeave:
		s.Leave(socket.Room(r.Room))
	default:
		s.Disconnect(r.Close)
	}
	if r.HasRequestID {
		a.respond(&protocol.Response{Type: r.Type, RequestID: r.RequestID}, r.UID, false)
	}
}

// peekPrefix is how much of a response PeekRequestID looks at.
const peekPrefix = 256

// onResponseMessage handles responses on the subscriber goroutine: they
// only update pending requests, and handling them there means a request made
// from inside a server-side emit handler cannot deadlock the worker.
func (a *Adapter) onResponseMessage(m *redis.Message) {
	// Every server receives every answer on the shared channel: skip the
	// decoding of those meant for others. Node and Go write the requestId
	// among the first keys, so the peek only needs the head of the payload
	// (a fetchSockets answer is tens of kilobytes, not worth copying for
	// every server); without an answer there, the payload is decoded.
	if id, ok := protocol.PeekRequestID([]byte(m.Payload[:min(len(m.Payload), peekPrefix)])); ok {
		_, isAck := a.acks.get(id)
		_, isReq := a.requests.get(id)
		if !isAck && !isReq {
			a.stats.ignored.Add(1)
			return
		}
	}
	r, err := protocol.DecodeResponse([]byte(m.Payload))
	if err != nil {
		a.decodeError(m.Channel, err)
		return
	}
	if ack, ok := a.acks.get(r.RequestID); ok {
		switch r.Type {
		case protocol.RequestBroadcastClientCount:
			ack.onCount(uint64(r.ClientCount))
		case protocol.RequestBroadcastAck:
			ack.onAck([]any{r.Ack}, nil)
		default:
			a.stats.ignored.Add(1)
		}
		return
	}
	req, ok := a.requests.get(r.RequestID)
	if !ok {
		a.stats.ignored.Add(1)
		return
	}
	switch protocol.RequestType(req.kind) {
	case protocol.RequestRemoteFetch:
		req.answer(func(p *pendingRequest) {
			for _, s := range r.Sockets {
				p.sockets = append(p.sockets, s.Details())
			}
		})
	case protocol.RequestAllRooms:
		req.answer(func(p *pendingRequest) { p.rooms = append(p.rooms, r.Rooms...) })
	case protocol.RequestServerSideEmit:
		req.answer(func(p *pendingRequest) { p.values = append(p.values, r.Data) })
	}
}

func toRooms(s []string) []socket.Room {
	out := make([]socket.Room, len(s))
	for i, r := range s {
		out[i] = socket.Room(r)
	}
	return out
}

// PendingRequests is the number of cross-server requests of this namespace
// still waiting for answers (diagnostics: it returns to 0 once every request
// was answered, timed out or the adapter closed).
func (a *Adapter) PendingRequests() int {
	return a.requests.len() + a.acks.len()
}
