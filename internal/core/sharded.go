package core

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/protocol"
)

// Sharded is the wire format of Node's createShardedAdapter
// (@socket.io/redis-adapter 8.3, Redis 7): ClusterAdapter envelopes with
// SPUBLISH / SSUBSCRIBE on the namespace channel P#N#, room channels
// P#N#R# in the dynamic modes, and answers on the requester's private
// channel P#N#U#.
var Sharded Format = shardedFormat{}

type shardedFormat struct{}

func (shardedFormat) connect(h *Hub) pubsubConn {
	return newShardSubscriber(h.rdb, h.cfg.HealthCheckInterval, &h.stats, h.log)
}

func (shardedFormat) newWire(a *Adapter) wire {
	w := &shardedWire{
		a:         a,
		mode:      a.cfg().SubscriptionMode,
		bcastChan: protocol.BroadcastChannel(a.cfg().Key, a.name),
		desired:   map[string]bool{},
		active:    map[string]bool{},
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
	}
	if w.mode != protocol.StaticMode {
		w.wg.Add(1)
		go w.syncRooms()
	}
	return w
}

// shardedWire is one namespace in the sharded format.
type shardedWire struct {
	a           *Adapter
	mode        protocol.SubscriptionMode
	bcastChan   string
	privateChan string

	// Room channels (dynamic modes): the wishes recorded by roomChanged
	// and what the sync goroutine subscribed.
	mu      sync.Mutex
	desired map[string]bool
	active  map[string]bool
	kick    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
}

func (w *shardedWire) uid() string {
	uid := protocol.NewShardedUID()
	w.privateChan = protocol.PrivateChannel(w.a.cfg().Key, w.a.name, uid)
	return uid
}

func (w *shardedWire) newRequestID() string { return protocol.NewShardedUID() }

func (w *shardedWire) subscriptions() map[sub]handler {
	return map[sub]handler{
		{kindShard, w.bcastChan}:   w.onMessage,
		{kindShard, w.privateChan}: w.onPrivateMessage,
	}
}

func (w *shardedWire) countServers(ctx context.Context) (int64, error) {
	return numSub(ctx, w.a.hub.rdb, w.bcastChan, true)
}

func (w *shardedWire) encode(m *protocol.Envelope) ([]byte, error) {
	m.UID, m.Nsp = w.a.uid, w.a.name
	return protocol.EncodeEnvelope(m)
}

// publishBroadcast publishes a BROADCAST (with ack when ackID is set) on
// the channel Node would choose.
func (w *shardedWire) publishBroadcast(p protocol.Packet, opts protocol.Options, ackID string) error {
	p.Nsp = ""
	payload, err := w.encode(&protocol.Envelope{Type: protocol.MsgBroadcast, RequestID: ackID, Packet: p, Opts: opts})
	if err != nil {
		return err
	}
	ch := w.bcastChan
	if ackID == "" && (len(opts.Rooms) != 1 || w.roomAllowed(opts.Rooms[0])) {
		ch = protocol.ShardedBroadcastChannel(w.a.cfg().Key, w.a.name, opts.Rooms, w.mode)
	}
	w.a.pub.fireAndForget(w.a.name, KindBroadcast.String(), true, ch, payload)
	return nil
}

// messageTypes maps the operations to ClusterAdapter message types.
var messageTypes = map[Kind]protocol.MessageType{
	KindSocketsJoin:          protocol.MsgSocketsJoin,
	KindSocketsLeave:         protocol.MsgSocketsLeave,
	KindDisconnectSockets:    protocol.MsgDisconnectSockets,
	KindFetchSockets:         protocol.MsgFetchSockets,
	KindServerSideEmit:       protocol.MsgServerSideEmit,
	KindBroadcast:            protocol.MsgBroadcast,
	KindBroadcastClientCount: protocol.MsgBroadcastClientCount,
	KindBroadcastAck:         protocol.MsgBroadcastAck,
}

func (w *shardedWire) encodeRequest(r *request) ([]byte, error) {
	t, ok := messageTypes[r.kind]
	if !ok {
		// allRooms: Node's sharded adapter has no such message either.
		return nil, ErrNotSupported
	}
	return w.encode(&protocol.Envelope{Type: t, RequestID: r.id, Opts: r.opts, Rooms: r.rooms, Close: r.close, EmitData: r.data})
}

func (w *shardedWire) publishRequest(ctx context.Context, kind Kind, payload []byte) error {
	return w.a.pub.publish(ctx, w.a.name, kind.String(), true, w.bcastChan, payload)
}

func (w *shardedWire) fireAndForget(kind Kind, payload []byte) {
	w.a.pub.fireAndForget(w.a.name, kind.String(), true, w.bcastChan, payload)
}

func (w *shardedWire) reply(to string, r *reply) {
	m := &protocol.Envelope{RequestID: r.id}
	switch r.kind {
	case KindFetchSockets:
		m.Type, m.Sockets, m.Msgpack = protocol.MsgFetchSocketsResponse, r.sockets, true
	case KindServerSideEmit:
		m.Type, m.Value = protocol.MsgServerSideEmitResponse, r.value
	case KindBroadcastClientCount:
		m.Type, m.ClientCount = protocol.MsgBroadcastClientCount, r.count
	case KindBroadcastAck:
		m.Type, m.Value = protocol.MsgBroadcastAck, r.value
	default:
		w.a.log.warn("encode", "no sharded answer for this request", "nsp", w.a.name, "kind", r.kind)
		return
	}
	payload, err := w.encode(m)
	if err == nil {
		payload, err = w.a.boundAnswer(r.kind, r.id, payload, len(r.sockets), func() ([]byte, error) {
			return w.encode(&protocol.Envelope{Type: m.Type, RequestID: r.id, TooLarge: true})
		})
	}
	if err != nil {
		w.a.log.warn("encode", "response not published", "nsp", w.a.name, "err", err)
		return
	}
	w.a.pub.fireAndForget(w.a.name, replyLabel(r.kind), true, protocol.PrivateChannel(w.a.cfg().Key, w.a.name, to), payload)
}

// announce publishes heartbeats on the namespace channel, as Node's
// ClusterAdapterWithHeartbeat does; Node's sharded adapter ignores these
// types.
func (w *shardedWire) announce(ctx context.Context, m *protocol.Envelope, wait bool) error {
	payload, err := w.encode(m)
	if err != nil {
		return err
	}
	if wait {
		return w.a.pub.publish(ctx, w.a.name, heartbeatKind, true, w.bcastChan, payload)
	}
	w.a.pub.fireAndForget(w.a.name, heartbeatKind, true, w.bcastChan, payload)
	return nil
}

// peerSubscribed: every server listens on its private channel.
func (w *shardedWire) peerSubscribed(ctx context.Context, uid string) (bool, error) {
	n, err := numSub(ctx, w.a.hub.rdb, protocol.PrivateChannel(w.a.cfg().Key, w.a.name, uid), true)
	return n > 0, err
}

// --- receiving ---

func (w *shardedWire) onMessage(m *redis.Message) {
	if protocol.IsHeartbeatPayload(m.Payload) {
		// On the subscriber goroutine: a busy worker must not make this
		// server miss heartbeats and declare live peers dead.
		w.a.onHeartbeatPayload(m.Channel, []byte(m.Payload))
		return
	}
	w.a.enqueue(m, w.onEnvelope, 0)
}

// onPrivateMessage handles answers on the subscriber goroutine (see
// Adapter.onReply).
func (w *shardedWire) onPrivateMessage(m *redis.Message) {
	if w.a.oversized(m) {
		return
	}
	msg, err := protocol.DecodeEnvelope([]byte(m.Payload))
	if err != nil {
		w.a.decodeError(m.Channel, err)
		return
	}
	if msg.UID == w.a.uid || msg.Nsp != w.a.name {
		w.a.stats.ignored.Add(1)
		return
	}
	applyResponse(w.a, msg)
}

// messageKinds maps ClusterAdapter message types to the operations.
var messageKinds = map[protocol.MessageType]Kind{
	protocol.MsgSocketsJoin:            KindSocketsJoin,
	protocol.MsgSocketsLeave:           KindSocketsLeave,
	protocol.MsgDisconnectSockets:      KindDisconnectSockets,
	protocol.MsgFetchSockets:           KindFetchSockets,
	protocol.MsgServerSideEmit:         KindServerSideEmit,
	protocol.MsgBroadcast:              KindBroadcast,
	protocol.MsgFetchSocketsResponse:   KindFetchSockets,
	protocol.MsgServerSideEmitResponse: KindServerSideEmit,
	protocol.MsgBroadcastClientCount:   KindBroadcastClientCount,
	protocol.MsgBroadcastAck:           KindBroadcastAck,
}

// onEnvelope handles a message from the main or a room channel, on the
// namespace worker.
func (w *shardedWire) onEnvelope(a *Adapter, payload []byte) {
	m, err := protocol.DecodeEnvelope(payload)
	if err != nil {
		a.decodeError(w.bcastChan, err)
		return
	}
	w.handleEnvelope(a, m)
}

// handleEnvelope applies a decoded message from the main or a room channel.
func (w *shardedWire) handleEnvelope(a *Adapter, m *protocol.Envelope) { applyEnvelope(a, m, "") }

// --- room channels (dynamic modes) ---

// roomAllowed applies the room filter (Config.RoomFilter): a refused room
// gets no channel, and this server publishes its broadcasts on the main
// channel, as in static mode.
func (w *shardedWire) roomAllowed(room string) bool {
	f := w.a.cfg().RoomFilter
	return f == nil || f(room)
}

// onRoomMessage handles a message from a room channel. Node publishes only
// broadcasts without acknowledgement there; anything else is dropped, so a
// room named after a server's uid (its channel is that server's private
// channel) cannot make the server handle its answers twice.
func (w *shardedWire) onRoomMessage(m *redis.Message) {
	w.a.enqueue(m, w.onRoomEnvelope, KindBroadcast)
}

func (w *shardedWire) onRoomEnvelope(a *Adapter, payload []byte) {
	m, err := protocol.DecodeEnvelope(payload)
	if err != nil {
		a.decodeError(w.bcastChan, err)
		return
	}
	if m.Type != protocol.MsgBroadcast || m.HasRequestID {
		a.stats.ignored.Add(1)
		return
	}
	w.handleEnvelope(a, m)
}

// wantsChannel tells whether a local room gets its own channel. Dynamic mode
// skips socket-id rooms, except Go socket ids: Node publishers only send
// rooms of exactly 20 characters to the main channel, so a Node server's
// to(goSocketId) arrives on P#N#<goSocketId>#, and the Go server must listen
// there. The cost is one sharded subscription per connected Go socket.
func (w *shardedWire) wantsChannel(room string) bool {
	if !w.roomAllowed(room) {
		w.a.stats.roomsFiltered.Add(1)
		return false
	}
	switch w.mode {
	case protocol.DynamicPrivateMode:
		return true
	case protocol.DynamicMode:
		if w.a.local.HasSocket(room) {
			return len(room) != protocol.NodeSocketIDLength
		}
		return true
	}
	return false
}

// roomChanged runs synchronously inside socket.Join/Leave: it only records
// the wish; the sync goroutine talks to Redis.
func (w *shardedWire) roomChanged(room string, created bool) {
	if w.mode == protocol.StaticMode || created && !w.wantsChannel(room) {
		return
	}
	ch := protocol.RoomChannel(w.a.cfg().Key, w.a.name, room)
	w.mu.Lock()
	w.desired[ch] = created
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *shardedWire) syncRooms() {
	defer w.wg.Done()
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		}
		w.mu.Lock()
		var add, del []string
		for ch, want := range w.desired {
			switch {
			case want && !w.active[ch]:
				add = append(add, ch)
				w.active[ch] = true
			case !want && w.active[ch]:
				del = append(del, ch)
				delete(w.active, ch)
			}
			delete(w.desired, ch)
		}
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), w.a.cfg().RequestsTimeout)
		if len(del) > 0 {
			subs := make([]sub, len(del))
			for i, ch := range del {
				subs[i] = sub{kindShard, ch}
			}
			w.a.sub.unsubscribe(ctx, w, subs)
		}
		if len(add) > 0 {
			subs := make(map[sub]handler, len(add))
			for _, ch := range add {
				subs[sub{kindShard, ch}] = w.onRoomMessage
			}
			if err := w.a.sub.subscribe(ctx, w, subs); err != nil {
				w.a.log.warn("room-subscribe", "room channel not subscribed yet", "nsp", w.a.name, "err", err)
			}
		}
		cancel()
	}
}

// close stops the room sync and unsubscribes every room channel.
func (w *shardedWire) close(ctx context.Context) {
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	w.wg.Wait()
	w.mu.Lock()
	var subs []sub
	for ch := range w.active {
		subs = append(subs, sub{kindShard, ch})
	}
	w.active = map[string]bool{}
	w.mu.Unlock()
	if len(subs) > 0 {
		w.a.sub.unsubscribe(ctx, w, subs)
	}
}

func (w *shardedWire) roomChannels() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.active))
	for ch := range w.active {
		out = append(out, ch)
	}
	return out
}
