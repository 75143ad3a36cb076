package redisadapter

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/protocol"
)

// NewSharded returns the sharded pub/sub adapter for Redis 7 (SPUBLISH,
// SSUBSCRIBE), wire-compatible with Node's createShardedAdapter from
// @socket.io/redis-adapter 8.3. With a *redis.ClusterClient each message
// only travels to the shard that owns its channel. It also works against a
// single Redis 7 node.
//
//	opts.SetAdapter(redisadapter.NewSharded(rdb, redisadapter.WithSubscriptionMode(redisadapter.DynamicMode)))
func NewSharded(rdb redis.UniversalClient, opts ...Option) *Builder {
	b := New(rdb, opts...)
	b.sharded = true
	return b
}

// nodeSocketIDLength is the length of Node's socket ids. Node's dynamic mode
// treats rooms of exactly this length as socket ids (published on the main
// channel, never subscribed).
const nodeSocketIDLength = 20

// shardedState is the part of an adapter specific to the sharded protocol.
type shardedState struct {
	mode        SubscriptionMode
	privateChan string

	mu      sync.Mutex
	desired map[string]bool // room channel -> should be subscribed
	active  map[string]bool // room channel -> subscribed
	kick    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
	a       *Adapter
}

func newShardedAdapter(b *Builder, nsp socket.Namespace) *Adapter {
	a := &Adapter{Adapter: socket.MakeAdapter(), b: b, log: b.log, stats: &b.stats}
	a.Prototype(a)
	a.Construct(nsp)
	a.name = nsp.Name()
	a.uid = protocol.NewClusterUID()
	key := b.cfg.key
	st := &shardedState{
		mode:        b.cfg.subscriptionMode,
		privateChan: protocol.PrivateChannel(key, a.name, a.uid),
		desired:     map[string]bool{},
		active:      map[string]bool{},
		kick:        make(chan struct{}, 1),
		stop:        make(chan struct{}),
		a:           a,
	}
	a.sharded = st
	a.bcastChan = protocol.BroadcastChannel(key, a.name)
	a.startWorker()

	a.shared = b.acquire()
	subs := map[sub]handler{
		{kindShard, a.bcastChan}:    a.onShardMessage,
		{kindShard, st.privateChan}: a.onShardResponse,
	}
	for k := range subs {
		a.subs = append(a.subs, k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.requestsTimeout)
	defer cancel()
	if err := a.shardSub.subscribe(ctx, subs); err != nil {
		a.log.warn("subscribe", "namespace not subscribed yet; it will be once Redis is reachable",
			"nsp", a.name, "err", err)
	}
	if st.mode != StaticMode {
		a.On("create-room", func(args ...any) {
			if room, ok := args[0].(socket.Room); ok {
				st.roomChanged(room, true)
			}
		})
		a.On("delete-room", func(args ...any) {
			if room, ok := args[0].(socket.Room); ok {
				st.roomChanged(room, false)
			}
		})
		st.wg.Add(1)
		go st.syncRooms()
	}
	return a
}

// wantsChannel tells whether a local room gets its own channel. Dynamic mode
// skips socket-id rooms, except Go socket ids: Node publishers only send
// rooms of exactly 20 characters to the main channel, so a Node server's
// to(goSocketId) arrives on P#N#<goSocketId>#, and the Go server must listen
// there. The cost is one sharded subscription per connected Go socket.
func (st *shardedState) wantsChannel(room socket.Room) bool {
	switch st.mode {
	case DynamicPrivateMode:
		return true
	case DynamicMode:
		if _, isSocket := st.a.Sids().Load(socket.SocketId(room)); isSocket {
			return len(room) != nodeSocketIDLength
		}
		return true
	}
	return false
}

// roomChanged runs synchronously inside socket.Join/Leave: it only records
// the wish; the sync goroutine talks to Redis.
func (st *shardedState) roomChanged(room socket.Room, created bool) {
	if created && !st.wantsChannel(room) {
		return
	}
	ch := protocol.RoomChannel(st.a.b.cfg.key, st.a.name, string(room))
	st.mu.Lock()
	st.desired[ch] = created
	st.mu.Unlock()
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

func (st *shardedState) syncRooms() {
	defer st.wg.Done()
	for {
		select {
		case <-st.stop:
			return
		case <-st.kick:
		}
		st.mu.Lock()
		var add, del []string
		for ch, want := range st.desired {
			switch {
			case want && !st.active[ch]:
				add = append(add, ch)
				st.active[ch] = true
			case !want && st.active[ch]:
				del = append(del, ch)
				delete(st.active, ch)
			}
			delete(st.desired, ch)
		}
		st.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), st.a.b.cfg.requestsTimeout)
		if len(del) > 0 {
			subs := make([]sub, len(del))
			for i, ch := range del {
				subs[i] = sub{kindShard, ch}
			}
			st.a.shardSub.unsubscribe(ctx, subs)
		}
		if len(add) > 0 {
			subs := make(map[sub]handler, len(add))
			for _, ch := range add {
				subs[sub{kindShard, ch}] = st.a.onShardMessage
			}
			if err := st.a.shardSub.subscribe(ctx, subs); err != nil {
				st.a.log.warn("room-subscribe", "room channel not subscribed yet", "nsp", st.a.name, "err", err)
			}
		}
		cancel()
	}
}

// closeRooms stops the room sync and unsubscribes every room channel.
func (st *shardedState) closeRooms() {
	select {
	case <-st.stop:
		return
	default:
	}
	close(st.stop)
	st.wg.Wait()
	st.mu.Lock()
	var subs []sub
	for ch := range st.active {
		subs = append(subs, sub{kindShard, ch})
	}
	st.active = map[string]bool{}
	st.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), st.a.b.cfg.requestsTimeout)
	defer cancel()
	st.a.shardSub.unsubscribe(ctx, subs)
}

// ActiveRoomChannels lists the room channels the adapter is subscribed to
// (sharded dynamic modes); nil for the classic adapter.
func (a *Adapter) ActiveRoomChannels() []string {
	if a.sharded == nil {
		return nil
	}
	a.sharded.mu.Lock()
	defer a.sharded.mu.Unlock()
	out := make([]string, 0, len(a.sharded.active))
	for ch := range a.sharded.active {
		out = append(out, ch)
	}
	return out
}

func (a *Adapter) encodeCluster(m *protocol.ClusterMessage) ([]byte, error) {
	m.UID, m.Nsp = a.uid, a.name
	return protocol.EncodeClusterMessage(m)
}

// publishClusterBroadcast publishes a BROADCAST (with ack when id is set) on
// the channel Node would choose.
func (a *Adapter) publishClusterBroadcast(wp protocol.Packet, wo protocol.Options, id string) error {
	wp.Nsp = ""
	payload, err := a.encodeCluster(&protocol.ClusterMessage{Type: protocol.MsgBroadcast, RequestID: id, Packet: wp, Opts: wo})
	if err != nil {
		return err
	}
	ch := a.bcastChan
	if id == "" && len(wo.Rooms) == 1 {
		room := wo.Rooms[0]
		switch a.sharded.mode {
		case DynamicPrivateMode:
			ch = protocol.RoomChannel(a.b.cfg.key, a.name, room)
		case DynamicMode:
			if len(room) != nodeSocketIDLength {
				ch = protocol.RoomChannel(a.b.cfg.key, a.name, room)
			}
		}
	}
	a.pub.fireAndForget(true, ch, payload)
	return nil
}

func (a *Adapter) onShardMessage(m *redis.Message) {
	a.enqueue(inbound{channel: m.Channel, payload: []byte(m.Payload)})
}

func (a *Adapter) onShardResponse(m *redis.Message) {
	msg, err := protocol.DecodeClusterMessage([]byte(m.Payload))
	if err != nil {
		a.decodeError(m.Channel, err)
		return
	}
	if msg.UID == a.uid || msg.Nsp != a.name {
		a.stats.ignored.Add(1)
		return
	}
	a.onClusterResponse(msg)
}

func (a *Adapter) respondCluster(requester string, m *protocol.ClusterMessage) {
	payload, err := a.encodeCluster(m)
	if err != nil {
		a.log.warn("encode", "response not published", "nsp", a.name, "err", err)
		return
	}
	a.pub.fireAndForget(true, protocol.PrivateChannel(a.b.cfg.key, a.name, requester), payload)
}

// onClusterMessage handles a message from the main or a room channel, on the
// namespace worker.
func (a *Adapter) onClusterMessage(payload []byte) {
	m, err := protocol.DecodeClusterMessage(payload)
	if err != nil {
		a.decodeError(a.bcastChan, err)
		return
	}
	if m.UID == a.uid || m.Nsp != a.name {
		a.stats.ignored.Add(1)
		return
	}
	if m.Type.IsResponse() {
		a.onClusterResponse(m)
		return
	}
	switch m.Type {
	case protocol.MsgBroadcast:
		opts := socketOptions(m.Opts)
		opts.Flags.Local = false
		pkt := socketPacket(m.Packet, a.name)
		if !m.HasRequestID {
			a.deliver(pkt, opts)
			return
		}
		id, requester := m.RequestID, m.UID
		a.deliverWithAck(pkt, opts, func(n uint64) {
			a.respondCluster(requester, &protocol.ClusterMessage{Type: protocol.MsgBroadcastClientCount, RequestID: id, ClientCount: int64(n)})
		}, func(args []any, err error) {
			if err != nil {
				return
			}
			v := ackValue(args)
			a.respondCluster(requester, &protocol.ClusterMessage{Type: protocol.MsgBroadcastAck, RequestID: id, Value: v})
		})
	case protocol.MsgSocketsJoin:
		a.Adapter.AddSockets(socketOptions(m.Opts), toRooms(m.Rooms))
	case protocol.MsgSocketsLeave:
		a.Adapter.DelSockets(socketOptions(m.Opts), toRooms(m.Rooms))
	case protocol.MsgDisconnectSockets:
		a.Adapter.DisconnectSockets(socketOptions(m.Opts), m.Close)
	case protocol.MsgFetchSockets:
		var local []socket.SocketDetails
		a.Adapter.FetchSockets(socketOptions(m.Opts))(func(s []socket.SocketDetails, _ error) { local = s })
		infos := a.describe(local)
		a.respondCluster(m.UID, &protocol.ClusterMessage{Type: protocol.MsgFetchSocketsResponse, RequestID: m.RequestID, Sockets: infos, Msgpack: true})
	case protocol.MsgServerSideEmit:
		if !m.HasRequestID {
			a.Nsp().OnServerSideEmit(m.EmitData)
			return
		}
		var once sync.Once
		id, requester := m.RequestID, m.UID
		reply := socket.Ack(func(args []any, _ error) {
			once.Do(func() {
				v := ackValue(args)
				a.respondCluster(requester, &protocol.ClusterMessage{Type: protocol.MsgServerSideEmitResponse, RequestID: id, Value: v})
			})
		})
		a.Nsp().OnServerSideEmit(append(m.EmitData, reply))
	default:
		a.stats.ignored.Add(1)
	}
}

func (a *Adapter) onClusterResponse(m *protocol.ClusterMessage) {
	if ack, ok := a.acks.get(m.RequestID); ok {
		switch m.Type {
		case protocol.MsgBroadcastClientCount:
			ack.onCount(uint64(m.ClientCount))
		case protocol.MsgBroadcastAck:
			ack.onAck([]any{m.Value}, nil)
		}
		return
	}
	req, ok := a.requests.get(m.RequestID)
	if !ok {
		a.stats.ignored.Add(1)
		return
	}
	switch {
	case m.Type == protocol.MsgFetchSocketsResponse && req.kind == int(protocol.MsgFetchSockets):
		req.answer(func(p *pendingRequest) {
			for _, s := range m.Sockets {
				p.sockets = append(p.sockets, remoteDetails(s))
			}
		})
	case m.Type == protocol.MsgServerSideEmitResponse && req.kind == int(protocol.MsgServerSideEmit):
		req.answer(func(p *pendingRequest) { p.values = append(p.values, m.Value) })
	default:
		a.stats.ignored.Add(1)
	}
}
