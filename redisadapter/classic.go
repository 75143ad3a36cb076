package redisadapter

import (
	"context"
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

	inbox  chan inbound
	stop   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool

	countMu   sync.Mutex
	lastCount int64
	lastAt    time.Time
}

// inbound is a message waiting for the namespace worker.
type inbound struct {
	channel string
	payload []byte
	request bool // classic: request channel; false: broadcast channel
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

func (a *Adapter) startWorker() {
	a.inbox = make(chan inbound, a.b.cfg.inboxSize)
	a.stop = make(chan struct{})
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for {
			select {
			case m := <-a.inbox:
				a.safely(m.channel, func() {
					if a.sharded != nil {
						a.onClusterMessage(m.payload)
					} else if m.request {
						a.onRequest(m.payload)
					} else {
						a.onBroadcast(m.payload)
					}
				})
			case <-a.stop:
				return
			}
		}
	}()
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
	select {
	case a.inbox <- m:
	default:
		a.stats.dropped.Add(1)
		a.log.warn("inbox-full", "namespace cannot keep up, message dropped", "nsp", a.name, "channel", m.channel)
	}
}

// Uid returns the adapter's uid, unique per server and namespace.
func (a *Adapter) Uid() string { return a.uid }

// Close unsubscribes the namespace, fails its pending requests and stops its
// goroutine. socket.io calls it from io.Close and when it removes an empty
// child namespace.
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
	a.wg.Wait()
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

// ServerCountContext is ServerCount with a context and an error.
func (a *Adapter) ServerCountContext(ctx context.Context) (int64, error) {
	var n int64
	var err error
	if a.sharded != nil {
		n, err = numSub(ctx, a.b.rdb, a.bcastChan, true)
	} else {
		n, err = numSub(ctx, a.b.rdb, a.reqChan, false)
	}
	if err != nil {
		return 0, err
	}
	if n < 1 {
		n = 1 // this server, even when its subscription is not (yet) in place
	}
	a.countMu.Lock()
	a.lastCount, a.lastAt = n, time.Now()
	a.countMu.Unlock()
	return n, nil
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
	wp, err := packetFromSocket(p)
	if err != nil {
		return err
	}
	wo := optionsFromSocket(opts)
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

// BroadcastWithAck publishes a broadcast that expects acknowledgements,
// delivers it locally and returns once every server reported its client
// count and every client acknowledged, or when the flags' timeout expired.
// Blocking keeps socket.io's BroadcastOperator free of data races (see
// ackRequest); its callback is then called on the caller's goroutine.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, countCb func(uint64), ack socket.Ack) {
	opts = withNonNilSets(opts)
	var timeout time.Duration
	if opts.Flags != nil && opts.Flags.Timeout != nil {
		timeout = *opts.Flags.Timeout
	}
	servers := int64(1)
	req := newAckRequest(countCb, ack, servers)
	var id string
	if !isLocal(opts) && !a.closed.Load() {
		ctx, cancel := a.ctx()
		n, err := a.ServerCountContext(ctx)
		cancel()
		if err != nil {
			a.log.warn("server-count", "cannot count servers", "nsp", a.name, "err", err)
			n = 1
		}
		req.expectedServers = n
		if n > 1 {
			id = a.newRequestID()
			a.acks.put(id, req)
			if err := a.publishBroadcastWithAck(p, opts, id); err != nil {
				a.log.warn("publish", "broadcast with ack not published", "nsp", a.name, "err", err)
				req.expectedServers = 1
			}
		}
	}
	a.deliverWithAck(p, opts, req.onCount, req.onAck)
	req.wait(timeout, a.stop)
	if id != "" {
		a.acks.remove(id)
	}
	// The operator asks ServerCount right after: answer with the count the
	// request was sent to.
	a.countMu.Lock()
	a.lastCount, a.lastAt = req.expectedServers, time.Now()
	a.countMu.Unlock()
}

func (a *Adapter) newRequestID() string {
	if a.sharded != nil {
		return protocol.NewClusterUID()
	}
	return protocol.NewRequestID()
}

func (a *Adapter) publishBroadcastWithAck(p *parser.Packet, opts *socket.BroadcastOptions, id string) error {
	wp, err := packetFromSocket(p)
	if err != nil {
		return err
	}
	wo := optionsFromSocket(opts)
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
// called before the returned function returns. When a server does not answer
// within the requests timeout (or the flags' timeout, if set), the callback
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
			cb(local, fmt.Errorf("sioredis: fetchSockets: %w", err))
			return
		}
		if n <= 1 {
			cb(local, nil)
			return
		}
		wo := optionsFromSocket(opts)
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
		sockets, err := a.request(ctx, id, req, payload, timeout, "fetchSockets")
		cb(sockets.sockets, err)
	}
}

// request publishes a request, waits for its answers and returns the
// (possibly partial) collected state.
func (a *Adapter) request(ctx context.Context, id string, req *pendingRequest, payload []byte, timeout time.Duration, what string) (*pendingRequest, error) {
	a.requests.put(id, req)
	defer a.requests.remove(id)
	if err := a.pub.publish(ctx, a.sharded != nil, a.requestChannel(), payload); err != nil {
		return req, fmt.Errorf("sioredis: %s: %w", what, err)
	}
	if !req.wait(timeout, a.stop) {
		if a.closed.Load() {
			return req, fmt.Errorf("sioredis: %s: %w", what, ErrClosed)
		}
		a.stats.requestTimeouts.Add(1)
		req.mu.Lock()
		got, want := req.got, req.expected
		req.mu.Unlock()
		return req, fmt.Errorf("%w while waiting for %s responses: %d of %d servers answered", ErrTimeout, what, got, want)
	}
	return req, nil
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
		return rooms, fmt.Errorf("sioredis: allRooms: %w", err)
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
	deadline, _ := ctx.Deadline()
	res, err := a.request(ctx, id, req, payload, time.Until(deadline), "allRooms")
	res.mu.Lock()
	for _, r := range res.rooms {
		rooms.Add(socket.Room(r))
	}
	res.mu.Unlock()
	return rooms, err
}

// AddSockets makes the matching sockets of every server join rooms.
func (a *Adapter) AddSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	opts = withNonNilSets(opts)
	a.Adapter.AddSockets(opts, rooms)
	if isLocal(opts) {
		return
	}
	a.publishSocketsOp(protocol.RequestRemoteJoin, protocol.MsgSocketsJoin, opts, roomStrings(rooms), false)
}

// DelSockets makes the matching sockets of every server leave rooms.
func (a *Adapter) DelSockets(opts *socket.BroadcastOptions, rooms []socket.Room) {
	opts = withNonNilSets(opts)
	a.Adapter.DelSockets(opts, rooms)
	if isLocal(opts) {
		return
	}
	a.publishSocketsOp(protocol.RequestRemoteLeave, protocol.MsgSocketsLeave, opts, roomStrings(rooms), false)
}

// DisconnectSockets disconnects the matching sockets of every server.
func (a *Adapter) DisconnectSockets(opts *socket.BroadcastOptions, close bool) {
	opts = withNonNilSets(opts)
	a.Adapter.DisconnectSockets(opts, close)
	if isLocal(opts) {
		return
	}
	a.publishSocketsOp(protocol.RequestRemoteDisconnect, protocol.MsgDisconnectSockets, opts, nil, close)
}

// publishSocketsOp publishes a fire-and-forget socket operation. The local
// part has already been applied; the server ignores its own message.
func (a *Adapter) publishSocketsOp(rt protocol.RequestType, mt protocol.MessageType, opts *socket.BroadcastOptions, rooms []string, close bool) {
	if a.closed.Load() {
		return
	}
	wo := optionsFromSocket(opts)
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
	w, err := toWire(data)
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
			return fmt.Errorf("sioredis: serverSideEmit: %w", err)
		}
		return nil
	}
	n, err := a.ServerCountContext(ctx)
	if err != nil {
		err = fmt.Errorf("sioredis: serverSideEmit: %w", err)
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
	res, err := a.request(ctx, id, req, payload, a.b.cfg.requestsTimeout, "serverSideEmit")
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
	opts := socketOptions(msg.Opts)
	opts.Flags.Local = false
	a.deliver(socketPacket(msg.Packet, a.name), opts)
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
		opts := socketOptions(r.Opts)
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
		a.Adapter.FetchSockets(socketOptions(r.Opts))(func(s []socket.SocketDetails, _ error) { local = s })
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
				v := ackValue(args)
				a.respond(&protocol.Response{Type: protocol.RequestServerSideEmit, RequestID: r.RequestID, Data: v}, r.UID, true)
			})
		})
		a.Nsp().OnServerSideEmit(append(r.Data, reply))

	case protocol.RequestBroadcast:
		if _, mine := a.acks.get(r.RequestID); mine || r.UID == a.uid {
			return
		}
		opts := socketOptions(r.Opts)
		opts.Flags.Local = false
		id, uid := r.RequestID, r.UID
		a.deliverWithAck(socketPacket(r.Packet, a.name), opts, func(n uint64) {
			a.respond(&protocol.Response{Type: protocol.RequestBroadcastClientCount, RequestID: id, ClientCount: int64(n)}, uid, false)
		}, func(args []any, err error) {
			if err != nil {
				return
			}
			v := ackValue(args)
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
				p.sockets = append(p.sockets, remoteDetails(s))
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
