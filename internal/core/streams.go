package core

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/protocol"
)

// Streams is the wire format of Node's @socket.io/redis-streams-adapter
// 0.3.1: broadcasts and socket operations are entries of a Redis stream
// (XADD … MAXLEN ~, read with XREAD BLOCK), which survive a reader's
// outage and make connection state recovery possible; the ephemeral
// requests (broadcasts with ack, server-side emits, fetchSockets) and the
// answers are msgpack envelopes over pub/sub on P#N# and P#N#U#. Servers
// are counted with PUBSUB NUMSUB P#N#, as 0.3.1 does (it sends no
// heartbeat).
var Streams Format = streamsFormat{}

type streamsFormat struct{}

// kindStream marks, among a namespace's subscriptions, the stream it
// reads; the pub/sub subscriber never sees it.
const kindStream subKind = -1

func (streamsFormat) connect(h *Hub) pubsubConn {
	return &streamsConn{
		subscriber: newSubscriber(clientLink(h.rdb, h.cfg.HealthCheckInterval), &h.stats, h.log, nil),
		h:          h,
		readers:    map[string]*streamReader{},
	}
}

func (streamsFormat) newWire(a *Adapter) wire {
	key, sc := a.cfg().Key, a.cfg().Streams
	return &streamsWire{
		a:         a,
		stream:    protocol.StreamFor(sc.StreamName, sc.StreamCount, a.name),
		bcastChan: protocol.BroadcastChannel(key, a.name),
	}
}

// streamsConn is the hub's pub/sub subscriber plus one reader per stream
// that a local namespace maps to.
type streamsConn struct {
	*subscriber
	h *Hub

	mu      sync.Mutex
	readers map[string]*streamReader
	closed  bool
}

// register makes the reader of stream hand the entries of nsp to h,
// starting the reader on first use.
func (c *streamsConn) register(stream, nsp string, h func(string, map[string]any)) *streamReader {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.readers[stream]
	if r == nil && !c.closed {
		r = newStreamReader(c.h.rdb, stream, c.h.cfg.Streams, &c.h.stats, c.h.log, c.subscriber.waitUp)
		c.readers[stream] = r
	}
	if r != nil {
		r.setHandler(nsp, h)
	}
	return r
}

// unregister removes nsp from its reader, stopping the reader when no
// namespace is left.
func (c *streamsConn) unregister(stream, nsp string) {
	c.mu.Lock()
	r := c.readers[stream]
	if r == nil || r.setHandler(nsp, nil) > 0 {
		c.mu.Unlock()
		return
	}
	delete(c.readers, stream)
	c.mu.Unlock()
	r.close()
}

func (c *streamsConn) reader(stream string) *streamReader {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readers[stream]
}

// subscribe subscribes the pub/sub channels and waits until the readers of
// the streams are positioned.
func (c *streamsConn) subscribe(ctx context.Context, subs map[sub]handler) error {
	ps := make(map[sub]handler, len(subs))
	var streams []string
	for k, h := range subs {
		if k.kind == kindStream {
			streams = append(streams, k.name)
			continue
		}
		ps[k] = h
	}
	err := c.subscriber.subscribe(ctx, ps)
	for _, s := range streams {
		if r := c.reader(s); r != nil {
			err = errors.Join(err, r.waitStarted(ctx))
		}
	}
	return err
}

func (c *streamsConn) unsubscribe(ctx context.Context, subs []sub) {
	ps := make([]sub, 0, len(subs))
	for _, k := range subs {
		if k.kind != kindStream {
			ps = append(ps, k)
		}
	}
	c.subscriber.unsubscribe(ctx, ps)
}

// healthy: the subscriber is up and every reader reads.
func (c *streamsConn) healthy() bool {
	if !c.subscriber.healthy() {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.readers {
		if !r.healthy.Load() {
			return false
		}
	}
	return true
}

func (c *streamsConn) close() {
	c.mu.Lock()
	c.closed = true
	readers := c.readers
	c.readers = map[string]*streamReader{}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range readers {
		wg.Add(1)
		go func() { defer wg.Done(); r.close() }()
	}
	wg.Wait()
	c.subscriber.close()
}

// streamsWire is one namespace in the streams format.
type streamsWire struct {
	a           *Adapter
	stream      string
	bcastChan   string
	privateChan string
}

func (w *streamsWire) conn() *streamsConn { return w.a.sub.conn.(*streamsConn) }

func (w *streamsWire) uid() string {
	uid := protocol.NewShardedUID()
	w.privateChan = protocol.PrivateChannel(w.a.cfg().Key, w.a.name, uid)
	return uid
}

func (w *streamsWire) newRequestID() string { return protocol.NewShardedUID() }

func (w *streamsWire) subscriptions() map[sub]handler {
	w.conn().register(w.stream, w.a.name, w.onEntry)
	return map[sub]handler{
		{kindChannel, w.bcastChan}:   w.onMessage,
		{kindChannel, w.privateChan}: w.onPrivateMessage,
		{kindStream, w.stream}:       nil,
	}
}

func (w *streamsWire) countServers(ctx context.Context) (int64, error) {
	return numSub(ctx, w.a.hub.rdb, w.bcastChan, false)
}

func (w *streamsWire) xaddArgs(e protocol.StreamEntry) *redis.XAddArgs {
	return &redis.XAddArgs{Stream: w.stream, MaxLen: w.a.cfg().Streams.MaxLen, Approx: true, ID: "*", Values: []string(e)}
}

// publishBroadcast adds a broadcast to the stream without waiting, or, with
// ackID, publishes it over pub/sub (an ephemeral message).
func (w *streamsWire) publishBroadcast(p protocol.Packet, opts protocol.Options, ackID string) error {
	p.Nsp = ""
	m := &protocol.Envelope{Type: protocol.MsgBroadcast, UID: w.a.uid, Nsp: w.a.name, RequestID: ackID, Packet: p, Opts: opts}
	if ackID != "" {
		m.Msgpack = true
		payload, err := protocol.EncodeEnvelope(m)
		if err != nil {
			return err
		}
		w.a.pub.fireAndForget(w.a.name, KindBroadcast.String(), false, w.bcastChan, payload)
		return nil
	}
	e, err := protocol.EncodeStreamEntry(m, w.a.cfg().Streams.OnlyPlaintext)
	if err != nil {
		return err
	}
	w.a.pub.xaddAsync(w.a.name, KindBroadcast.String(), w.xaddArgs(e))
	return nil
}

// publishBroadcastOffset adds a broadcast to the stream and returns its
// entry id, the offset connection state recovery gives the clients.
func (w *streamsWire) publishBroadcastOffset(ctx context.Context, p protocol.Packet, opts protocol.Options) (string, error) {
	p.Nsp = ""
	m := &protocol.Envelope{Type: protocol.MsgBroadcast, UID: w.a.uid, Nsp: w.a.name, Packet: p, Opts: opts}
	e, err := protocol.EncodeStreamEntry(m, w.a.cfg().Streams.OnlyPlaintext)
	if err != nil {
		return "", err
	}
	return w.a.pub.xadd(ctx, w.a.name, KindBroadcast.String(), w.xaddArgs(e))
}

// encodeRequest encodes an ephemeral request as a msgpack envelope and a
// socket operation as a stream entry, packed behind a 0 byte (no msgpack
// map starts with it) for publishRequest and fireAndForget.
func (w *streamsWire) encodeRequest(r *request) ([]byte, error) {
	t, ok := messageTypes[r.kind]
	if !ok {
		return nil, ErrNotSupported // allRooms: Node has no such message either
	}
	m := &protocol.Envelope{Type: t, UID: w.a.uid, Nsp: w.a.name, RequestID: r.id, Opts: r.opts,
		Rooms: r.rooms, Close: r.close, EmitData: r.data, Msgpack: true}
	if protocol.IsEphemeral(m) {
		return protocol.EncodeEnvelope(m)
	}
	e, err := protocol.EncodeStreamEntry(m, w.a.cfg().Streams.OnlyPlaintext)
	if err != nil {
		return nil, err
	}
	return packEntry(e), nil
}

func (w *streamsWire) publishRequest(ctx context.Context, kind Kind, payload []byte) error {
	if e, ok := unpackEntry(payload); ok {
		_, err := w.a.pub.xadd(ctx, w.a.name, kind.String(), w.xaddArgs(e))
		return err
	}
	return w.a.pub.publish(ctx, w.a.name, kind.String(), false, w.bcastChan, payload)
}

func (w *streamsWire) fireAndForget(kind Kind, payload []byte) {
	if e, ok := unpackEntry(payload); ok {
		w.a.pub.xaddAsync(w.a.name, kind.String(), w.xaddArgs(e))
		return
	}
	w.a.pub.fireAndForget(w.a.name, kind.String(), false, w.bcastChan, payload)
}

func (w *streamsWire) reply(to string, r *reply) {
	m := &protocol.Envelope{RequestID: r.id, UID: w.a.uid, Nsp: w.a.name, Msgpack: true}
	switch r.kind {
	case KindFetchSockets:
		m.Type, m.Sockets = protocol.MsgFetchSocketsResponse, r.sockets
	case KindServerSideEmit:
		m.Type, m.Value = protocol.MsgServerSideEmitResponse, r.value
	case KindBroadcastClientCount:
		m.Type, m.ClientCount = protocol.MsgBroadcastClientCount, r.count
	case KindBroadcastAck:
		m.Type, m.Value = protocol.MsgBroadcastAck, r.value
	default:
		w.a.log.warn("encode", "no streams answer for this request", "nsp", w.a.name, "kind", r.kind)
		return
	}
	payload, err := protocol.EncodeEnvelope(m)
	if err != nil {
		w.a.log.warn("encode", "response not published", "nsp", w.a.name, "err", err)
		return
	}
	w.a.pub.fireAndForget(w.a.name, replyLabel(r.kind), false, protocol.PrivateChannel(w.a.cfg().Key, w.a.name, to), payload)
}

// announce publishes a heartbeat or leave message on P#N#, as the sharded
// format does (JSON envelopes of type 1, 2, 13). Node's 0.3.1 servers
// ignore them (they count servers with NUMSUB).
func (w *streamsWire) announce(ctx context.Context, m *protocol.Envelope, wait bool) error {
	m.UID, m.Nsp = w.a.uid, w.a.name
	payload, err := protocol.EncodeEnvelope(m)
	if err != nil {
		return err
	}
	if wait {
		return w.a.pub.publish(ctx, w.a.name, heartbeatKind, false, w.bcastChan, payload)
	}
	w.a.pub.fireAndForget(w.a.name, heartbeatKind, false, w.bcastChan, payload)
	return nil
}

// peerSubscribed: every server listens on its private channel.
func (w *streamsWire) peerSubscribed(ctx context.Context, uid string) (bool, error) {
	n, err := numSub(ctx, w.a.hub.rdb, protocol.PrivateChannel(w.a.cfg().Key, w.a.name, uid), false)
	return n > 0, err
}

func (w *streamsWire) roomChanged(string, bool) {}

func (w *streamsWire) roomChannels() []string { return nil }

func (w *streamsWire) close(context.Context) { w.conn().unregister(w.stream, w.a.name) }

// --- receiving ---

func (w *streamsWire) onMessage(m *redis.Message) {
	if protocol.IsHeartbeatPayload(m.Payload) {
		// On the subscriber goroutine, as in the sharded format.
		w.a.onHeartbeatPayload(m.Channel, []byte(m.Payload))
		return
	}
	w.a.enqueue(m, w.onEnvelope, 0)
}

// onPrivateMessage handles answers on the subscriber goroutine (see
// Adapter.onReply).
func (w *streamsWire) onPrivateMessage(m *redis.Message) {
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

func (w *streamsWire) onEnvelope(a *Adapter, payload []byte) {
	m, err := protocol.DecodeEnvelope(payload)
	if err != nil {
		a.decodeError(w.bcastChan, err)
		return
	}
	applyEnvelope(a, m, "")
}

// onEntry receives a stream entry of this namespace, on the reader
// goroutine; it is decoded and applied on the worker.
func (w *streamsWire) onEntry(id string, values map[string]any) {
	// The data field stands for the entry in the inbox's byte budget and
	// size limit; the handler decodes the fields themselves.
	data, _ := values["data"].(string)
	w.a.enqueue(&redis.Message{Channel: w.stream, Payload: data}, func(a *Adapter, _ []byte) {
		m, err := protocol.DecodeStreamEntry(values)
		if err != nil {
			a.decodeError(w.stream, err)
			return
		}
		applyEnvelope(a, m, id)
	}, 0)
}

// packEntry and unpackEntry carry a stream entry through the wire
// interface's []byte payloads: a 0 byte, then each field as a uvarint
// length and its bytes.
func packEntry(e protocol.StreamEntry) []byte {
	n := 1
	for _, f := range e {
		n += len(f) + binary.MaxVarintLen32
	}
	b := make([]byte, 1, n)
	for _, f := range e {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func unpackEntry(b []byte) (protocol.StreamEntry, bool) {
	if len(b) == 0 || b[0] != 0 {
		return nil, false
	}
	var e protocol.StreamEntry
	for b = b[1:]; len(b) > 0; {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			panic("sioredis: corrupt packed stream entry") // only packEntry writes these
		}
		e = append(e, string(b[k:k+int(n)]))
		b = b[k+int(n):]
	}
	return e, true
}
