package emitter

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/codec"
	"github.com/sioredis/sioredis/internal/protocol"
)

// DefaultKey is the default channel prefix, the one of Node's adapter and
// emitter.
const DefaultKey = protocol.DefaultPrefix

// Errors returned before anything is published.
var (
	// ErrReservedEvent is returned by Emit for the event names Socket.IO
	// reserves for itself on sockets (connect, connect_error, disconnect,
	// disconnecting, newListener, removeListener) and by ServerSideEmit for
	// the names it reserves on namespaces (connect, connection,
	// new_namespace).
	ErrReservedEvent = errors.New("sioredis: reserved event name")
	// ErrAckNotSupported is returned when an argument is a function, such as
	// an acknowledgement callback func([]any, error): the emitter receives
	// nothing back from Redis.
	ErrAckNotSupported = errors.New("sioredis: acknowledgements are not supported")
	// ErrUnsupportedValue is wrapped by the error returned for an argument
	// that cannot be put on the wire (a channel, NaN, a function nested in a
	// map...).
	ErrUnsupportedValue = codec.ErrUnsupportedValue
	// ErrInvalidNamespace is wrapped by the error of every call on an
	// emitter for a namespace whose name contains '#': its channels would
	// be another namespace's room channels, and servers do not share such
	// a namespace through Redis.
	ErrInvalidNamespace = sioredis.ErrInvalidNamespace
)

// socketReserved are the event names a socket cannot emit (Node's
// RESERVED_EVENTS of socket.io and of the emitter).
var socketReserved = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

// namespaceReserved are the event names a server-side emit cannot carry
// (Node's namespace RESERVED_EVENTS): receivers would run their connection
// handlers with arguments that are not sockets.
var namespaceReserved = map[string]bool{"connect": true, "connection": true, "new_namespace": true}

// SubscriptionMode is the subscription mode of the sharded servers the
// emitter talks to (see [WithSubscriptionMode]): [sioredis.SubscriptionMode],
// the type redisadapter uses too.
type SubscriptionMode = sioredis.SubscriptionMode

const (
	// StaticMode: the servers listen only on the namespace channel P#N#, so
	// every message is published there.
	StaticMode = sioredis.StaticMode
	// DynamicMode (the default): servers also listen on one channel P#N#R#
	// per room they have members in, socket-id rooms excepted for Node
	// servers (20-character ids). A broadcast to exactly one room goes to
	// that room's channel, unless the room is 20 characters long (a Node
	// socket id), which goes to P#N#. Go servers listen on the channels of
	// their own (24-character) socket ids, so To(goSocketID) reaches them.
	DynamicMode = sioredis.DynamicMode
	// DynamicPrivateMode: like DynamicMode, but every room has its own
	// channel, socket-id rooms included, so a broadcast to exactly one room
	// always goes to the room channel.
	DynamicPrivateMode = sioredis.DynamicPrivateMode
)

// Option configures an [Emitter] built by [New].
type Option func(*config)

type config struct {
	key        string
	sharded    bool
	mode       SubscriptionMode
	roomFilter func(room string) bool

	streams     bool
	streamName  string
	streamCount int
	maxLen      int64
}

// WithRoomFilter tells a sharded emitter the servers' room filter
// (redisadapter.WithRoomFilter): a broadcast to exactly one room the filter
// refuses goes to the namespace channel P#N#, where those servers hear it.
// Use the servers' very function. Ignored in the classic format.
func WithRoomFilter(f func(room string) bool) Option {
	return func(c *config) { c.roomFilter = f }
}

// WithKey sets the channel prefix P. Default [DefaultKey] ("socket.io").
// It must be the prefix of the servers (Node: key of createAdapter,
// channelPrefix of createShardedAdapter). An empty prefix keeps the default.
func WithKey(prefix string) Option {
	return func(c *config) {
		if prefix != "" {
			c.key = prefix
		}
	}
}

// WithSharded selects the sharded format. Default false: the classic format
// of Node's @socket.io/redis-emitter, published with PUBLISH, for servers
// using the classic adapter. With true, messages are ClusterAdapter
// envelopes (uid "emitter") published with SPUBLISH, for servers using
// redisadapter.NewSharded or Node's createShardedAdapter (Redis 7+): a
// broadcast is a BROADCAST (3) on P#N# or on a room channel (see
// [WithSubscriptionMode]); SocketsJoin, SocketsLeave, DisconnectSockets and
// ServerSideEmit are SOCKETS_JOIN (4), SOCKETS_LEAVE (5),
// DISCONNECT_SOCKETS (6) and SERVER_SIDE_EMIT (9) on P#N#.
func WithSharded(on bool) Option {
	return func(c *config) { c.sharded = on }
}

// WithSubscriptionMode tells a sharded emitter which subscription mode the
// servers use, which decides the channel of a broadcast to exactly one room.
// Default [DynamicMode], the default of the sharded adapters. Unknown values
// keep the current mode. Ignored in the classic format, where a broadcast to
// exactly one room always goes to P#N#R# and every server listens there.
func WithSubscriptionMode(m SubscriptionMode) Option {
	return func(c *config) {
		if m.Valid() {
			c.mode = m
		}
	}
}

// WithStreams selects the Redis Streams format, for servers using
// redisadapter.NewStreams or Node's @socket.io/redis-streams-adapter 0.3.1
// (Node publishes no emitter for it). Broadcasts, SocketsJoin, SocketsLeave
// and DisconnectSockets are entries of the namespace's stream (XADD …
// MAXLEN ~, uid "emitter"), so servers that are briefly cut from Redis
// still get them and clients recovering their connection state get them
// replayed; ServerSideEmit is an envelope over pub/sub on P#N#, as the
// servers send it. [WithStreamName], [WithStreamCount] and [WithMaxLen]
// must match the servers'. It overrides [WithSharded].
func WithStreams(on bool) Option {
	return func(c *config) { c.streams = on }
}

// WithStreamName sets the stream key (Node's streamName), or its prefix
// with [WithStreamCount] above 1. Default "socket.io".
func WithStreamName(name string) Option {
	return func(c *config) {
		if name != "" {
			c.streamName = name
		}
	}
}

// WithStreamCount sets the number of streams the namespaces are spread
// over (Node's streamCount). Default 1.
func WithStreamCount(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.streamCount = n
		}
	}
}

// WithMaxLen sets the MAXLEN ~ of each XADD (Node's maxLen). Default
// 10000.
func WithMaxLen(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxLen = n
		}
	}
}

// Emitter publishes to the servers of one namespace, targeting the sockets
// selected by its rooms, exceptions and flags. It is immutable: every
// operator returns a new Emitter, so one value can be shared by any number
// of goroutines. The zero value is not usable; call [New].
type Emitter struct {
	rdb redis.UniversalClient
	cfg *config // never modified after New

	nsp    string
	rooms  []string // deduplicated; never modified once set
	except []string // deduplicated; never modified once set
	flags  protocol.Flags

	mainChannel  string // P#N#, or P-request#N# in the classic format
	bcastChannel string // channel of Emit
}

// New returns an emitter for the namespace "/" that publishes through rdb,
// which may be a *redis.Client, a failover client or a *redis.ClusterClient.
// rdb stays owned by the caller, who closes it when done; it must not be nil.
// New does not contact Redis.
func New(rdb redis.UniversalClient, opts ...Option) *Emitter {
	if rdb == nil {
		panic("sioredis: New called with a nil Redis client")
	}
	cfg := &config{key: DefaultKey, mode: DynamicMode, streamName: protocol.DefaultStreamName,
		streamCount: protocol.DefaultStreamCount, maxLen: protocol.DefaultStreamMaxLen}
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	e := &Emitter{rdb: rdb, cfg: cfg, nsp: "/"}
	e.setChannels()
	return e
}

// setChannels computes the channels of a new operator value.
func (e *Emitter) setChannels() {
	key := e.cfg.key
	if e.cfg.streams {
		e.mainChannel = protocol.BroadcastChannel(key, e.nsp)
		e.bcastChannel = protocol.StreamFor(e.cfg.streamName, e.cfg.streamCount, e.nsp)
		return
	}
	if !e.cfg.sharded {
		e.mainChannel = protocol.RequestChannel(key, e.nsp)
		e.bcastChannel = protocol.BroadcastChannelFor(key, e.nsp, e.rooms)
		return
	}
	e.mainChannel = protocol.BroadcastChannel(key, e.nsp)
	e.bcastChannel = protocol.ShardedBroadcastChannel(key, e.nsp, e.rooms, e.cfg.mode)
	if f := e.cfg.roomFilter; f != nil && len(e.rooms) == 1 && !f(e.rooms[0]) {
		e.bcastChannel = e.mainChannel
	}
}

func (e *Emitter) derive(change func(c *Emitter)) *Emitter {
	c := *e
	change(&c)
	c.setChannels()
	return &c
}

// Of returns an emitter for namespace nsp; a missing leading "/" is added
// (Of("admin") targets "/admin", Of("") targets "/"). Rooms, exceptions and
// flags are kept.
func (e *Emitter) Of(nsp string) *Emitter {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	return e.derive(func(c *Emitter) { c.nsp = nsp })
}

// To returns an emitter that also targets the given rooms: events reach the
// sockets that are in at least one of the rooms (each socket once). Without
// any room, events reach every socket of the namespace. A socket id is a
// room holding that socket only.
func (e *Emitter) To(rooms ...string) *Emitter {
	if len(rooms) == 0 {
		return e
	}
	return e.derive(func(c *Emitter) { c.rooms = union(e.rooms, rooms) })
}

// In is the same as [Emitter.To].
func (e *Emitter) In(rooms ...string) *Emitter { return e.To(rooms...) }

// Except returns an emitter that excludes the sockets in any of the given
// rooms.
func (e *Emitter) Except(rooms ...string) *Emitter {
	if len(rooms) == 0 {
		return e
	}
	return e.derive(func(c *Emitter) { c.except = union(e.except, rooms) })
}

// Volatile returns an emitter whose events may be dropped for clients that
// are not ready to receive them (connection not yet writable).
func (e *Emitter) Volatile() *Emitter {
	return e.derive(func(c *Emitter) { c.flags.Volatile = true })
}

// Compress returns an emitter whose events are sent compressed (true, the
// servers' default) or uncompressed (false) to the clients, when their
// transport supports it.
func (e *Emitter) Compress(on bool) *Emitter {
	return e.derive(func(c *Emitter) { c.flags.Compress = &on })
}

// union returns a new slice holding a then the elements of b not seen yet,
// as the Set Node's emitter keeps. a and b are not modified.
func union(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	var seen map[string]bool
	if len(a)+len(b) > 16 {
		seen = make(map[string]bool, len(a)+len(b))
		for _, r := range a {
			seen[r] = true
		}
	}
	for _, r := range b {
		if seen != nil {
			if seen[r] {
				continue
			}
			seen[r] = true
		} else if containsString(out, r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func containsString(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

func (e *Emitter) options() protocol.Options {
	return protocol.Options{Rooms: e.rooms, Except: e.except, Flags: e.flags}
}

// Emit publishes the event ev with args to the targeted sockets of every
// server. It is EmitContext with context.Background(); the go-redis client's
// own timeouts still apply.
func (e *Emitter) Emit(ev string, args ...any) error {
	return e.EmitContext(context.Background(), ev, args...)
}

// EmitContext publishes the event ev with args to the targeted sockets of
// every server and returns once Redis has accepted it, or with the error of
// the PUBLISH (wrapped).
//
// ctx bounds the wait for a connection and go-redis' retries, so a deadline
// makes the call fail in time while Redis is down. To also bound a Redis
// that accepts the command but hangs, create the client with go-redis'
// ContextTimeoutEnabled option; otherwise its ReadTimeout applies.
//
// Arguments are sent as a local emit would send them: []byte stays binary,
// structs go through encoding/json (json tags apply), an io.Reader is read
// to the end and sent as binary. It returns [ErrReservedEvent] for reserved
// names, [ErrAckNotSupported] when an argument is a function, and an error
// wrapping [ErrUnsupportedValue] for a value that cannot be encoded.
func (e *Emitter) EmitContext(ctx context.Context, ev string, args ...any) error {
	_, err := e.EmitReach(ctx, ev, args...)
	return err
}

// EmitReach is [Emitter.EmitContext] that also tells how many servers Redis
// delivered the event to: the reply of PUBLISH (SPUBLISH in the sharded
// format), the number of subscribers of the channel. A server counts once
// per namespace it has (classic: its pattern subscription to the
// namespace; sharded dynamic modes: its subscription to the room's channel,
// held while it has members in the room). 0 with a nil error means the
// publish succeeded but no server listened: a wrong prefix (WithKey), a
// wrong namespace, no server up, or in the sharded dynamic modes a room
// without members anywhere. Each socket still decides for itself whether
// it is in the targeted rooms, so this counts servers, not clients.
//
// On a Redis Cluster, PUBLISH counts only the subscribers of the node that
// ran it (classic servers subscribe on one node each), so the number can
// be lower than the servers reached; SPUBLISH counts the shard's, which
// are all of them.
func (e *Emitter) EmitReach(ctx context.Context, ev string, args ...any) (int64, error) {
	if socketReserved[ev] {
		return 0, fmt.Errorf("%w: %q", ErrReservedEvent, ev)
	}
	data, err := eventData(ev, args)
	if err != nil {
		return 0, err
	}
	if e.cfg.streams {
		return e.xaddReach(ctx, &protocol.Envelope{
			Type:   protocol.MsgBroadcast,
			UID:    protocol.EmitterUID,
			Nsp:    e.nsp,
			Packet: protocol.Packet{Type: protocol.EventPacketType, Data: data},
			Opts:   e.options(),
		})
	}
	var payload []byte
	if e.cfg.sharded {
		payload, err = protocol.EncodeEnvelope(&protocol.Envelope{
			Type:   protocol.MsgBroadcast,
			UID:    protocol.EmitterUID,
			Nsp:    e.nsp,
			Packet: protocol.Packet{Type: protocol.EventPacketType, Data: data},
			Opts:   e.options(),
		})
	} else {
		payload, err = protocol.EncodeEmitterBroadcast(&protocol.Broadcast{
			UID:    protocol.EmitterUID,
			Packet: protocol.Packet{Type: protocol.EventPacketType, Data: data, Nsp: e.nsp},
			Opts:   e.options(),
		})
	}
	if err != nil {
		return 0, fmt.Errorf("sioredis: encoding %q: %w", ev, err)
	}
	return e.publishReach(ctx, e.bcastChannel, payload)
}

// eventData returns [ev, args...] in wire form.
func eventData(ev string, args []any) ([]any, error) {
	data := make([]any, 0, len(args)+1)
	data = append(data, ev)
	for i, a := range args {
		if a != nil && reflect.TypeOf(a).Kind() == reflect.Func {
			return nil, fmt.Errorf("%w: argument %d of %q is a %T", ErrAckNotSupported, i, ev, a)
		}
		data = append(data, a)
	}
	w, err := codec.ToWire(data)
	if err != nil {
		return nil, fmt.Errorf("sioredis: arguments of %q: %w", ev, err)
	}
	return w.([]any), nil
}

// SocketsJoin makes the targeted sockets of every server join rooms. It is
// SocketsJoinContext with context.Background().
func (e *Emitter) SocketsJoin(rooms ...string) error {
	return e.SocketsJoinContext(context.Background(), rooms...)
}

// SocketsJoinContext makes the targeted sockets of every server join rooms.
// It returns once Redis has accepted the request; servers apply it when they
// receive it.
func (e *Emitter) SocketsJoinContext(ctx context.Context, rooms ...string) error {
	return e.socketsOp(ctx, protocol.RequestRemoteJoin, protocol.MsgSocketsJoin, rooms, false)
}

// SocketsLeave makes the targeted sockets of every server leave rooms. It is
// SocketsLeaveContext with context.Background().
func (e *Emitter) SocketsLeave(rooms ...string) error {
	return e.SocketsLeaveContext(context.Background(), rooms...)
}

// SocketsLeaveContext makes the targeted sockets of every server leave
// rooms. It returns once Redis has accepted the request.
func (e *Emitter) SocketsLeaveContext(ctx context.Context, rooms ...string) error {
	return e.socketsOp(ctx, protocol.RequestRemoteLeave, protocol.MsgSocketsLeave, rooms, false)
}

// DisconnectSockets disconnects the targeted sockets of every server; with
// close true their underlying connections are closed too. It is
// DisconnectSocketsContext with context.Background().
func (e *Emitter) DisconnectSockets(close bool) error {
	return e.DisconnectSocketsContext(context.Background(), close)
}

// DisconnectSocketsContext disconnects the targeted sockets of every server;
// with close true their underlying connections are closed too. It returns
// once Redis has accepted the request.
func (e *Emitter) DisconnectSocketsContext(ctx context.Context, close bool) error {
	return e.socketsOp(ctx, protocol.RequestRemoteDisconnect, protocol.MsgDisconnectSockets, nil, close)
}

func (e *Emitter) socketsOp(ctx context.Context, rt protocol.RequestType, mt protocol.MessageType, rooms []string, close bool) error {
	if rooms == nil {
		rooms = []string{}
	}
	if e.cfg.streams {
		return e.xadd(ctx, &protocol.Envelope{
			Type: mt, UID: protocol.EmitterUID, Nsp: e.nsp, Opts: e.options(), Rooms: rooms, Close: close,
		})
	}
	var payload []byte
	var err error
	if e.cfg.sharded {
		payload, err = protocol.EncodeEnvelope(&protocol.Envelope{
			Type: mt, UID: protocol.EmitterUID, Nsp: e.nsp, Opts: e.options(), Rooms: rooms, Close: close,
		})
	} else {
		// Node's emitter sends these without uid and with opts {rooms, except}.
		payload, err = protocol.EncodeRequest(&protocol.Request{
			Type: rt, Opts: protocol.Options{Rooms: e.rooms, Except: e.except}, Rooms: rooms, Close: close,
		})
	}
	if err != nil {
		if e.cfg.sharded {
			return fmt.Errorf("sioredis: encoding %s: %w", mt, err)
		}
		return fmt.Errorf("sioredis: encoding %s: %w", rt, err)
	}
	return e.publish(ctx, e.mainChannel, payload)
}

// ServerSideEmit runs the handlers registered for ev (io.On(ev, ...) or
// io.Of(nsp).On(ev, ...)) on every server of the namespace. It is
// ServerSideEmitContext with context.Background().
func (e *Emitter) ServerSideEmit(ev string, args ...any) error {
	return e.ServerSideEmitContext(context.Background(), ev, args...)
}

// ServerSideEmitContext runs the handlers registered for ev on every server
// of the namespace, with args (converted as in [Emitter.EmitContext]). Rooms,
// exceptions and flags do not apply. It returns [ErrReservedEvent] for
// connect, connection and new_namespace, and [ErrAckNotSupported] when an
// argument is a function.
//
// In the classic format the request is JSON, as Node's emitter sends it,
// unless an argument holds binary: it is then sent as msgpack, which the
// adapters decode too, so the bytes arrive as binary (Node's emitter would
// send a Buffer as {"type":"Buffer","data":[...]}).
func (e *Emitter) ServerSideEmitContext(ctx context.Context, ev string, args ...any) error {
	if namespaceReserved[ev] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, ev)
	}
	data, err := eventData(ev, args)
	if err != nil {
		return err
	}
	var payload []byte
	if e.cfg.sharded || e.cfg.streams {
		payload, err = protocol.EncodeEnvelope(&protocol.Envelope{
			Type: protocol.MsgServerSideEmit, UID: protocol.EmitterUID, Nsp: e.nsp, EmitData: data,
			Msgpack: e.cfg.streams, // the streams adapter's pub/sub is msgpack only
		})
	} else {
		payload, err = protocol.EncodeRequest(&protocol.Request{
			UID: protocol.EmitterUID, Type: protocol.RequestServerSideEmit, Data: data,
		})
	}
	if err != nil {
		return fmt.Errorf("sioredis: encoding %q: %w", ev, err)
	}
	return e.publish(ctx, e.mainChannel, payload)
}

func (e *Emitter) publish(ctx context.Context, channel string, payload []byte) error {
	_, err := e.publishReach(ctx, channel, payload)
	return err
}

// publishReach publishes and returns Redis' count of receivers.
func (e *Emitter) publishReach(ctx context.Context, channel string, payload []byte) (int64, error) {
	var n int64
	if strings.Contains(e.nsp, "#") {
		return 0, fmt.Errorf("sioredis: namespace %q: %w", e.nsp, ErrInvalidNamespace)
	}
	var err error
	if e.cfg.sharded && !e.cfg.streams {
		n, err = e.rdb.SPublish(ctx, channel, payload).Result()
	} else {
		n, err = e.rdb.Publish(ctx, channel, payload).Result()
	}
	if err != nil {
		return 0, fmt.Errorf("sioredis: publishing to %q: %w", channel, err)
	}
	return n, nil
}

// xaddReach adds an envelope to the namespace's stream and returns the
// number of servers listening on the namespace (PUBSUB NUMSUB P#N#: each
// streams server subscribes it), the reach an XADD itself does not tell.
func (e *Emitter) xaddReach(ctx context.Context, m *protocol.Envelope) (int64, error) {
	if err := e.xadd(ctx, m); err != nil {
		return 0, err
	}
	res, err := e.rdb.PubSubNumSub(ctx, e.mainChannel).Result()
	if err != nil {
		return 0, fmt.Errorf("sioredis: counting servers: %w", err)
	}
	return res[e.mainChannel], nil
}

// xadd adds an envelope to the namespace's stream.
func (e *Emitter) xadd(ctx context.Context, m *protocol.Envelope) error {
	if strings.Contains(e.nsp, "#") {
		return fmt.Errorf("sioredis: namespace %q: %w", e.nsp, ErrInvalidNamespace)
	}
	entry, err := protocol.EncodeStreamEntry(m, false)
	if err != nil {
		return fmt.Errorf("sioredis: encoding %s: %w", m.Type, err)
	}
	args := &redis.XAddArgs{Stream: e.bcastChannel, MaxLen: e.cfg.maxLen, Approx: true, ID: "*", Values: []string(entry)}
	if err := e.rdb.XAdd(ctx, args).Err(); err != nil {
		return fmt.Errorf("sioredis: adding to stream %q: %w", e.bcastChannel, err)
	}
	return nil
}
