package core

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/protocol"
)

// Classic is the wire format of Node's createAdapter (@socket.io/redis-adapter
// 8.3): broadcasts in msgpack on P#N# and P#N#R#, received with PSUBSCRIBE;
// requests on P-request#N#, answers on P-response#N# (or the requester's own
// P-response#N#U#).
var Classic Format = classicFormat{}

type classicFormat struct{}

func (classicFormat) connect(h *Hub) pubsubConn {
	return newSubscriber(clientLink(h.rdb, h.cfg.HealthCheckInterval), &h.stats, h.log, nil)
}

func (classicFormat) newWire(a *Adapter) wire {
	key := a.cfg().Key
	return &classicWire{
		a:         a,
		bcastChan: protocol.BroadcastChannel(key, a.name),
		reqChan:   protocol.RequestChannel(key, a.name),
		respChan:  protocol.ResponseChannel(key, a.name),
		hbChan:    protocol.HeartbeatChannel(key, a.name),
	}
}

// classicWire is one namespace in the classic format.
type classicWire struct {
	a                                          *Adapter
	bcastChan, reqChan, respChan, specificChan string
	hbChan                                     string // heartbeats: a channel Node does not subscribe
}

func (w *classicWire) uid() string {
	uid := protocol.NewClassicUID()
	w.specificChan = protocol.SpecificResponseChannel(w.a.cfg().Key, w.a.name, uid)
	return uid
}

func (w *classicWire) newRequestID() string { return protocol.NewRequestID() }

func (w *classicWire) subscriptions() map[sub]handler {
	return map[sub]handler{
		{kindPattern, protocol.BroadcastPattern(w.a.cfg().Key, w.a.name)}: w.onBroadcastMessage,
		{kindChannel, w.reqChan}:      w.onRequestMessage,
		{kindChannel, w.respChan}:     w.onResponseMessage,
		{kindChannel, w.specificChan}: w.onResponseMessage,
		{kindChannel, w.hbChan}:       w.onHeartbeatMessage,
	}
}

// announce publishes heartbeats as envelopes on their own channel.
func (w *classicWire) announce(ctx context.Context, m *protocol.Envelope, wait bool) error {
	m.UID, m.Nsp = w.a.uid, w.a.name
	payload, err := protocol.EncodeEnvelope(m)
	if err != nil {
		return err
	}
	if wait {
		return w.a.pub.publish(ctx, w.a.name, heartbeatKind, false, w.hbChan, payload)
	}
	w.a.pub.fireAndForget(w.a.name, heartbeatKind, false, w.hbChan, payload)
	return nil
}

// peerSubscribed: every Go server listens on its specific response channel.
func (w *classicWire) peerSubscribed(ctx context.Context, uid string) (bool, error) {
	n, err := numSub(ctx, w.a.hub.rdb, protocol.SpecificResponseChannel(w.a.cfg().Key, w.a.name, uid), false)
	return n > 0, err
}

func (w *classicWire) onHeartbeatMessage(m *redis.Message) {
	w.a.onHeartbeatPayload(m.Channel, []byte(m.Payload))
}

func (w *classicWire) countServers(ctx context.Context) (int64, error) {
	return numSub(ctx, w.a.hub.rdb, w.reqChan, false)
}

func (w *classicWire) publishBroadcast(p protocol.Packet, opts protocol.Options, ackID string) error {
	p.Nsp = w.a.name
	if ackID != "" {
		payload, err := protocol.EncodeRequest(&protocol.Request{
			UID: w.a.uid, RequestID: ackID, Type: protocol.RequestBroadcast, Packet: p, Opts: opts,
		})
		if err != nil {
			return err
		}
		w.fireAndForget(KindBroadcast, payload)
		return nil
	}
	payload, err := protocol.EncodeBroadcast(&protocol.Broadcast{UID: w.a.uid, Packet: p, Opts: opts})
	if err != nil {
		return err
	}
	w.a.pub.fireAndForget(w.a.name, KindBroadcast.String(), false, protocol.BroadcastChannelFor(w.a.cfg().Key, w.a.name, opts.Rooms), payload)
	return nil
}

// requestTypes maps the operations to classic request types.
var requestTypes = map[Kind]protocol.RequestType{
	KindSocketsJoin:       protocol.RequestRemoteJoin,
	KindSocketsLeave:      protocol.RequestRemoteLeave,
	KindDisconnectSockets: protocol.RequestRemoteDisconnect,
	KindFetchSockets:      protocol.RequestRemoteFetch,
	KindServerSideEmit:    protocol.RequestServerSideEmit,
	KindAllRooms:          protocol.RequestAllRooms,
}

func (w *classicWire) encodeRequest(r *request) ([]byte, error) {
	t, ok := requestTypes[r.kind]
	if !ok {
		return nil, ErrNotSupported
	}
	return protocol.EncodeRequest(&protocol.Request{
		UID: w.a.uid, RequestID: r.id, Type: t, Opts: r.opts, Rooms: r.rooms, Close: r.close, Data: r.data,
	})
}

func (w *classicWire) publishRequest(ctx context.Context, kind Kind, payload []byte) error {
	return w.a.pub.publish(ctx, w.a.name, kind.String(), false, w.reqChan, payload)
}

func (w *classicWire) fireAndForget(kind Kind, payload []byte) {
	w.a.pub.fireAndForget(w.a.name, kind.String(), false, w.reqChan, payload)
}

// responseTypes maps the answers to classic response types (the requester
// tells fetchSockets, allRooms and serverSideEmit answers apart by their
// request id alone).
var responseTypes = map[Kind]protocol.RequestType{
	KindFetchSockets:         protocol.RequestRemoteFetch,
	KindAllRooms:             protocol.RequestAllRooms,
	KindServerSideEmit:       protocol.RequestServerSideEmit,
	KindBroadcastClientCount: protocol.RequestBroadcastClientCount,
	KindBroadcastAck:         protocol.RequestBroadcastAck,
}

func (w *classicWire) reply(to string, r *reply) {
	resp := &protocol.Response{Type: responseTypes[r.kind], RequestID: r.id, UID: w.a.uid}
	switch r.kind {
	case KindFetchSockets:
		resp.Sockets = r.sockets
		// msgpack: half the decoding cost of JSON for the requester (Go
		// or Node: both accept either on response channels).
		resp.Msgpack = true
	case KindAllRooms:
		resp.Rooms = r.rooms
	case KindServerSideEmit:
		resp.Data = r.value
	case KindBroadcastClientCount:
		resp.ClientCount = r.count
	case KindBroadcastAck:
		resp.Ack = r.value
	}
	w.respond(resp, to, r.kind == KindServerSideEmit, replyLabel(r.kind))
}

// respond publishes an answer on the shared response channel, or on the
// requester's own one with WithPublishOnSpecificResponseChannel (Node sends
// serverSideEmit answers on the shared one in every case).
func (w *classicWire) respond(r *protocol.Response, uid string, shared bool, kind string) {
	payload, err := protocol.EncodeResponse(r)
	if err == nil && r.Type == protocol.RequestRemoteFetch {
		payload, err = w.a.boundAnswer(KindFetchSockets, r.RequestID, payload, len(r.Sockets), func() ([]byte, error) {
			return protocol.EncodeResponse(&protocol.Response{Type: r.Type, RequestID: r.RequestID, UID: r.UID, TooLarge: true})
		})
	}
	if err != nil {
		w.a.log.warn("encode", "response not published", "nsp", w.a.name, "err", err)
		return
	}
	ch := w.respChan
	if w.a.cfg().PublishOnSpecificResponseChannel && !shared && uid != "" {
		ch = protocol.SpecificResponseChannel(w.a.cfg().Key, w.a.name, uid)
	}
	w.a.pub.fireAndForget(w.a.name, kind, false, ch, payload)
}

func (w *classicWire) roomChanged(string, bool) {}

func (w *classicWire) roomChannels() []string { return nil }

func (w *classicWire) close(context.Context) {}

// --- receiving ---

func (w *classicWire) onBroadcastMessage(m *redis.Message) {
	room, ok := protocol.RoomFromChannel(w.a.cfg().Key, w.a.name, m.Channel)
	if !ok {
		w.a.stats.ignored.Add(1)
		return
	}
	if room != "" && !w.a.local.HasRoom(room) {
		// No local member: drop without decoding, as Node does.
		w.a.stats.ignored.Add(1)
		return
	}
	w.a.enqueue(m, w.onBroadcast, KindBroadcast)
}

func (w *classicWire) onRequestMessage(m *redis.Message) {
	w.a.enqueue(m, w.onRequest, 0)
}

func (w *classicWire) onBroadcast(a *Adapter, payload []byte) {
	msg, err := protocol.DecodeBroadcast(payload)
	if err != nil {
		a.decodeError(w.bcastChan, err)
		return
	}
	if msg.UID == a.uid || msg.Packet.Nsp != a.name {
		a.stats.ignored.Add(1)
		return
	}
	a.onRequest(&request{kind: KindBroadcast, packet: msg.Packet, opts: msg.Opts})
}

// requestKinds maps classic request types to the operations.
var requestKinds = map[protocol.RequestType]Kind{
	protocol.RequestRemoteJoin:       KindSocketsJoin,
	protocol.RequestRemoteLeave:      KindSocketsLeave,
	protocol.RequestRemoteDisconnect: KindDisconnectSockets,
	protocol.RequestRemoteFetch:      KindFetchSockets,
	protocol.RequestServerSideEmit:   KindServerSideEmit,
	protocol.RequestAllRooms:         KindAllRooms,
	protocol.RequestBroadcast:        KindBroadcast,
}

func (w *classicWire) onRequest(a *Adapter, payload []byte) {
	r, err := protocol.DecodeRequest(payload)
	if err != nil {
		a.decodeError(w.reqChan, err)
		return
	}
	kind, ok := requestKinds[r.Type]
	if !ok {
		a.stats.ignored.Add(1)
		return
	}
	if r.Legacy {
		w.onLegacySocketOp(kind, r)
		return
	}
	if r.UID == a.uid || a.waiting(r.RequestID) {
		return // our own: applied locally when sent
	}
	req := &request{kind: kind, from: r.UID, opts: r.Opts, rooms: r.Rooms, close: r.Close, data: r.Data}
	switch kind {
	case KindServerSideEmit:
		if r.HasRequestID {
			req.id, req.withAck = r.RequestID, true
		}
	case KindBroadcast:
		req.id, req.packet = r.RequestID, r.Packet
	default:
		req.id = r.RequestID
	}
	a.onRequest(req)
}

// onLegacySocketOp serves the pre-8.0 single-socket join/leave/disconnect
// requests: only the server that owns the socket acts and answers.
func (w *classicWire) onLegacySocketOp(kind Kind, r *protocol.Request) {
	if !w.a.local.SocketOp(kind, r.Sid, r.Room, r.Close) {
		return
	}
	if r.HasRequestID {
		w.respond(&protocol.Response{Type: r.Type, RequestID: r.RequestID}, r.UID, false, socketOpResponse)
	}
}

// peekPrefix is how much of a response PeekRequestID looks at.
const peekPrefix = 256

// onResponseMessage handles answers on the subscriber goroutine (see
// Adapter.onReply).
func (w *classicWire) onResponseMessage(m *redis.Message) {
	a := w.a
	if a.oversized(m) {
		return
	}
	// Every server receives every answer on the shared channel: skip the
	// decoding of those meant for others. Node and Go write the requestId
	// among the first keys, so the peek only needs the head of the payload
	// (a fetchSockets answer is tens of kilobytes, not worth copying for
	// every server); without an answer there, the payload is decoded.
	if id, ok := protocol.PeekRequestID([]byte(m.Payload[:min(len(m.Payload), peekPrefix)])); ok && !a.waiting(id) {
		a.stats.ignored.Add(1)
		return
	}
	r, err := protocol.DecodeResponse([]byte(m.Payload))
	if err != nil {
		a.decodeError(m.Channel, err)
		return
	}
	rep := &reply{id: r.RequestID, from: r.UID, sockets: r.Sockets, rooms: r.Rooms, value: r.Data, count: r.ClientCount, tooLarge: r.TooLarge}
	switch r.Type {
	case protocol.RequestBroadcastClientCount:
		rep.kind = KindBroadcastClientCount
	case protocol.RequestBroadcastAck:
		rep.kind, rep.value = KindBroadcastAck, r.Ack
	}
	a.onReply(rep)
}
