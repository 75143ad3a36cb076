package protocol

import (
	"fmt"

	"github.com/sioredis/sioredis/internal/codec"
)

// Broadcast is the classic broadcast message [uid, packet, opts].
type Broadcast struct {
	// UID is the sender's adapter uid ("emitter" for emitters).
	UID string
	// Packet is the event; its Nsp is the namespace.
	Packet Packet
	// Opts selects the target sockets.
	Opts Options
}

// EncodeBroadcast encodes a broadcast as the classic adapter does: a msgpack
// array with opts keys in the order rooms, except, flags.
func EncodeBroadcast(b *Broadcast) ([]byte, error) {
	return codec.MarshalMsgpack([]any{b.UID, b.Packet.wire(true), b.Opts.wire(layoutAdapter)})
}

// EncodeEmitterBroadcast encodes a broadcast as Node's emitter does: opts
// keys in the order rooms, flags, except.
func EncodeEmitterBroadcast(b *Broadcast) ([]byte, error) {
	return codec.MarshalMsgpack([]any{b.UID, b.Packet.wire(true), b.Opts.wire(layoutEmitter)})
}

// DecodeBroadcast decodes a classic broadcast. Extra array elements are
// ignored, as in Node.
func DecodeBroadcast(payload []byte) (*Broadcast, error) {
	v, err := codec.UnmarshalMsgpack(payload)
	if err != nil {
		return nil, err
	}
	a, err := asArray(v, "broadcast")
	if err != nil {
		return nil, err
	}
	if len(a) < 3 {
		return nil, fmt.Errorf("%w: broadcast has %d elements, want 3", codec.ErrMalformed, len(a))
	}
	uid, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("%w: broadcast uid is %s", codec.ErrMalformed, codec.TypeName(a[0]))
	}
	b := &Broadcast{UID: uid}
	if b.Packet, err = decodePacket(a[1]); err != nil {
		return nil, err
	}
	if b.Opts, err = decodeOptions(a[2]); err != nil {
		return nil, err
	}
	return b, nil
}

// RequestType is the classic adapter's request code.
type RequestType int

// Classic request types (RequestType in @socket.io/redis-adapter).
const (
	RequestSockets              RequestType = 0 // legacy, not sent by 8.x
	RequestAllRooms             RequestType = 1
	RequestRemoteJoin           RequestType = 2
	RequestRemoteLeave          RequestType = 3
	RequestRemoteDisconnect     RequestType = 4
	RequestRemoteFetch          RequestType = 5
	RequestServerSideEmit       RequestType = 6
	RequestBroadcast            RequestType = 7
	RequestBroadcastClientCount RequestType = 8
	RequestBroadcastAck         RequestType = 9
)

// String returns Node's name of the request type.
func (t RequestType) String() string {
	names := [...]string{"SOCKETS", "ALL_ROOMS", "REMOTE_JOIN", "REMOTE_LEAVE", "REMOTE_DISCONNECT",
		"REMOTE_FETCH", "SERVER_SIDE_EMIT", "BROADCAST", "BROADCAST_CLIENT_COUNT", "BROADCAST_ACK"}
	if t >= 0 && int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("RequestType(%d)", int(t))
}

// Request is a classic request published on P-request#N#. Which fields are
// meaningful depends on Type; empty strings mean "absent" on the wire.
type Request struct {
	// UID is the sender's uid. Node's emitter omits it for join, leave and
	// disconnect requests (empty here).
	UID string
	// RequestID is empty when the request wants no answer.
	RequestID string
	// HasRequestID is set by the decoder when requestId was present, even as
	// null (Node then treats the request as wanting an answer).
	HasRequestID bool
	// Type selects the operation and which fields below are meaningful.
	Type RequestType
	// Opts targets the sockets of types 2-5 (rooms, except) and 7 (with flags).
	Opts Options
	// Rooms are the rooms to join or leave (types 2, 3).
	Rooms []string
	// Close is the argument of disconnectSockets (type 4).
	Close bool
	// Data is [event, ...args] of a server-side emit (type 6).
	Data []any
	// Packet is the broadcast of type 7.
	Packet Packet
	// Legacy is set for the pre-8.0 join/leave/disconnect form that targets
	// one socket id (Sid) and one room (Room) instead of Opts.
	Legacy bool
	// Sid is the target socket of a legacy request.
	Sid string
	// Room is the room of a legacy join or leave.
	Room string
}

// EncodeRequest encodes a request with Node's key order: JSON for every type
// but BROADCAST (7), which is a msgpack map. A server-side emit whose
// arguments hold binary is sent as msgpack too (Node decodes either), so
// binary survives the trip.
func EncodeRequest(r *Request) ([]byte, error) {
	o := codec.Object{}
	if r.UID != "" {
		o = append(o, codec.Member{"uid", r.UID})
	}
	withID := func() {
		if r.RequestID != "" {
			o = append(o, codec.Member{"requestId", r.RequestID})
		}
	}
	switch r.Type {
	case RequestSockets:
		withID()
		o = append(o, codec.Member{"type", int(r.Type)}, codec.Member{"rooms", stringsToAny(r.Rooms)})
	case RequestAllRooms, RequestRemoteFetch:
		withID()
		o = append(o, codec.Member{"type", int(r.Type)})
		if r.Type == RequestRemoteFetch {
			o = append(o, codec.Member{"opts", r.Opts.wire(layoutNoFlags)})
		}
	case RequestRemoteJoin, RequestRemoteLeave, RequestRemoteDisconnect:
		if r.Legacy {
			withID()
			o = append(o, codec.Member{"type", int(r.Type)}, codec.Member{"sid", r.Sid})
			if r.Type == RequestRemoteDisconnect {
				o = append(o, codec.Member{"close", r.Close})
			} else {
				o = append(o, codec.Member{"room", r.Room})
			}
			break
		}
		o = append(o, codec.Member{"type", int(r.Type)}, codec.Member{"opts", r.Opts.wire(layoutNoFlags)})
		if r.Type == RequestRemoteDisconnect {
			o = append(o, codec.Member{"close", r.Close})
		} else {
			o = append(o, codec.Member{"rooms", stringsToAny(r.Rooms)})
		}
	case RequestServerSideEmit:
		// The arguments come straight from ServerSideEmit: convert readers,
		// buffers and structs, and refuse what cannot be sent.
		data, err := codec.ToWire(r.Data)
		if err != nil {
			return nil, err
		}
		withID()
		o = append(o, codec.Member{"type", int(r.Type)}, codec.Member{"data", data})
		if codec.HasBinary(data) {
			return codec.MarshalMsgpack(o)
		}
	case RequestBroadcast:
		withID()
		o = append(o, codec.Member{"type", int(r.Type)}, codec.Member{"packet", r.Packet.wire(true)},
			codec.Member{"opts", r.Opts.wire(layoutAdapter)})
		return codec.MarshalMsgpack(o)
	default:
		return nil, fmt.Errorf("sioredis: cannot encode request type %d", r.Type)
	}
	return codec.MarshalJSON(o)
}

// decodeAny decodes JSON when the first byte is '{', msgpack otherwise.
func decodeAny(payload []byte) (map[string]any, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: empty payload", codec.ErrMalformed)
	}
	if len(payload) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", codec.ErrMalformed, len(payload), MaxMessageSize)
	}
	var v any
	var err error
	if payload[0] == '{' {
		v, err = codec.UnmarshalJSON(payload)
	} else {
		v, err = codec.UnmarshalMsgpack(payload)
	}
	if err != nil {
		return nil, err
	}
	return asMap(v, "message")
}

// DecodeRequest decodes a classic request (JSON or msgpack). Unknown types
// are returned with their code so that the caller can ignore them.
func DecodeRequest(payload []byte) (*Request, error) {
	m, err := decodeAny(payload)
	if err != nil {
		return nil, err
	}
	t, ok, err := optInt(m, "type")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: request without type", codec.ErrMalformed)
	}
	r := &Request{Type: RequestType(t)}
	if r.UID, _, err = optString(m, "uid"); err != nil {
		return nil, err
	}
	if r.RequestID, r.HasRequestID, err = optRequestID(m); err != nil {
		return nil, err
	}
	switch r.Type {
	case RequestSockets:
		r.Rooms, err = optStrings(m, "rooms")
	case RequestAllRooms:
	case RequestRemoteJoin, RequestRemoteLeave, RequestRemoteDisconnect:
		if opts, ok := m["opts"]; ok {
			if r.Opts, err = decodeOptions(opts); err != nil {
				return nil, err
			}
			if r.Type == RequestRemoteDisconnect {
				r.Close, err = optBool(m, "close")
			} else {
				r.Rooms, err = optStrings(m, "rooms")
			}
			break
		}
		r.Legacy = true
		if r.Sid, _, err = optString(m, "sid"); err != nil {
			return nil, err
		}
		if r.Type == RequestRemoteDisconnect {
			r.Close, err = optBool(m, "close")
		} else {
			r.Room, _, err = optString(m, "room")
		}
	case RequestRemoteFetch:
		if opts, ok := m["opts"]; ok {
			r.Opts, err = decodeOptions(opts)
		}
	case RequestServerSideEmit:
		r.Data, err = decodeEventData(m["data"], "server-side emit data")
	case RequestBroadcast:
		if r.Packet, err = decodePacket(m["packet"]); err != nil {
			return nil, err
		}
		r.Opts, err = decodeOptions(m["opts"])
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Response is a classic response, published on P-response#N# or
// P-response#N#U#.
type Response struct {
	// Type is the request type answered. Node writes it only for 6, 8 and 9;
	// the decoder leaves it -1 when absent (the requester then goes by the
	// type of its pending request).
	Type RequestType
	// RequestID is the id of the request answered.
	RequestID string
	// Rooms answers ALL_ROOMS (1).
	Rooms []string
	// Sockets answers REMOTE_FETCH (5).
	Sockets []SocketInfo
	// SocketIDs answers the legacy SOCKETS (0) request, which carries bare
	// ids.
	SocketIDs []string
	// Data is the first argument of a server-side emit acknowledgement (6).
	Data any
	// ClientCount answers BROADCAST (8): how many clients got the packet.
	ClientCount int64
	// Ack is the first argument of a client acknowledgement (9).
	Ack any
	// UID is the responder's uid. Node does not write it (and ignores it):
	// Go servers do, so that a requester knows who answered.
	UID string
	// Msgpack sends the response as msgpack even when it holds no binary.
	// Node decodes either form on its response channels; msgpack is about
	// twice as fast to decode for fetchSockets answers and keeps binary and
	// dates. The default is JSON, as Node writes.
	Msgpack bool
	// TooLarge marks a REMOTE_FETCH answer sent without its sockets because
	// they exceeded the answerer's limit. It travels as the key
	// TooLargeKey, which Node ignores (it sees an empty answer).
	TooLarge bool
}

// TooLargeKey is the key of the mark of a fetchSockets answer whose
// sockets were left out for exceeding the answerer's limit.
const TooLargeKey = "sioredisTooLarge"

// EncodeResponse encodes a response the way Node does for its Type:
// ALL_ROOMS {requestId, rooms}, REMOTE_FETCH {requestId, sockets},
// SERVER_SIDE_EMIT {type, requestId, data}, BROADCAST_CLIENT_COUNT
// {type, requestId, clientCount} as JSON, BROADCAST_ACK {type, requestId,
// packet} as msgpack. Fields Node reads unconditionally are always written.
// Responses whose values hold binary are sent as msgpack.
func EncodeResponse(r *Response) ([]byte, error) {
	var o codec.Object
	switch r.Type {
	case RequestSockets:
		o = codec.Object{{"requestId", r.RequestID}, {"sockets", stringsToAny(r.SocketIDs)}}
	case RequestAllRooms:
		o = codec.Object{{"requestId", r.RequestID}, {"rooms", stringsToAny(r.Rooms)}}
	case RequestRemoteFetch:
		socks, err := socketsWire(r.Sockets, r.Msgpack)
		if err != nil {
			return nil, err
		}
		o = codec.Object{{"requestId", r.RequestID}, {"sockets", socks}}
		if r.TooLarge {
			o = append(o, codec.Member{TooLargeKey, true})
		}
	case RequestRemoteJoin, RequestRemoteLeave, RequestRemoteDisconnect:
		o = codec.Object{{"requestId", r.RequestID}}
	case RequestServerSideEmit:
		d, err := codec.ToWire(r.Data)
		if err != nil {
			return nil, err
		}
		o = codec.Object{{"type", int(r.Type)}, {"requestId", r.RequestID}, {"data", d}}
	case RequestBroadcastClientCount:
		o = codec.Object{{"type", int(r.Type)}, {"requestId", r.RequestID}, {"clientCount", r.ClientCount}}
	case RequestBroadcastAck:
		a, err := codec.ToWire(r.Ack)
		if err != nil {
			return nil, err
		}
		o = codec.Object{{"type", int(r.Type)}, {"requestId", r.RequestID}, {"packet", a}}
		if r.UID != "" {
			o = append(o, codec.Member{"uid", r.UID})
		}
		return codec.MarshalMsgpack(o)
	default:
		return nil, fmt.Errorf("sioredis: cannot encode response type %d", r.Type)
	}
	if r.UID != "" {
		o = append(o, codec.Member{"uid", r.UID})
	}
	if r.Msgpack || codec.HasBinary(o) {
		return codec.MarshalMsgpack(o)
	}
	return codec.MarshalJSON(o)
}

// PeekRequestID reads the requestId of a classic response without decoding
// the rest of it, so that a server can drop the answers meant for other
// servers (every server receives every response on the shared channel). It
// looks at the first three keys, where Node and Go put requestId; ok is
// false when it cannot tell, and the caller then decodes the message in
// full.
func PeekRequestID(payload []byte) (id string, ok bool) {
	return codec.PeekString(payload, "requestId", 3)
}

// DecodeResponse decodes a classic response (JSON or msgpack). The sockets
// of a REMOTE_FETCH answer are decoded straight into SocketInfo values.
func DecodeResponse(payload []byte) (*Response, error) {
	tr, err := codec.NewTokens(payload)
	if err != nil {
		return nil, err
	}
	var socks socketList
	m, err := readObject(tr, "message", func(key string, _ map[string]any) (bool, error) {
		if key != "sockets" {
			return false, nil
		}
		var err error
		socks, err = readSocketList(tr, true)
		return true, err
	})
	if err != nil {
		return nil, err
	}
	if err := tr.End(); err != nil {
		return nil, err
	}
	r := &Response{Type: -1}
	id, ok, err := optRequestID(m)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: response without requestId", codec.ErrMalformed)
	}
	r.RequestID = id
	if r.UID, _, err = optString(m, "uid"); err != nil {
		return nil, err
	}
	if t, ok, err := optInt(m, "type"); err != nil {
		return nil, err
	} else if ok {
		r.Type = RequestType(t)
	}
	if r.Rooms, err = optStrings(m, "rooms"); err != nil {
		return nil, err
	}
	if socks.isIDs {
		r.SocketIDs = socks.ids
	} else if len(socks.infos) > 0 {
		r.Sockets = socks.infos
	}
	r.Data = m["data"]
	r.Ack = m["packet"]
	r.TooLarge, _ = m[TooLargeKey].(bool)
	if n, ok, err := optInt(m, "clientCount"); err != nil {
		return nil, err
	} else if ok {
		if n < 0 {
			return nil, fmt.Errorf("%w: negative clientCount", codec.ErrMalformed)
		}
		r.ClientCount = n
	} else if r.Type == RequestBroadcastClientCount {
		return nil, fmt.Errorf("%w: BROADCAST_CLIENT_COUNT without clientCount", codec.ErrMalformed)
	}
	return r, nil
}
