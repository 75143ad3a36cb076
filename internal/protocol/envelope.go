package protocol

import "github.com/sioredis/sioredis/internal/codec"

import "fmt"

// MessageType is the ClusterAdapter message code used by the sharded adapter
// (socket.io-adapter's MessageType). It differs from the classic RequestType.
type MessageType int

// ClusterAdapter message types.
const (
	MsgInitialHeartbeat       MessageType = 1
	MsgHeartbeat              MessageType = 2
	MsgBroadcast              MessageType = 3
	MsgSocketsJoin            MessageType = 4
	MsgSocketsLeave           MessageType = 5
	MsgDisconnectSockets      MessageType = 6
	MsgFetchSockets           MessageType = 7
	MsgFetchSocketsResponse   MessageType = 8
	MsgServerSideEmit         MessageType = 9
	MsgServerSideEmitResponse MessageType = 10
	MsgBroadcastClientCount   MessageType = 11
	MsgBroadcastAck           MessageType = 12
	MsgAdapterClose           MessageType = 13
)

// String returns socket.io-adapter's name of the message type.
func (t MessageType) String() string {
	names := [...]string{"", "INITIAL_HEARTBEAT", "HEARTBEAT", "BROADCAST", "SOCKETS_JOIN",
		"SOCKETS_LEAVE", "DISCONNECT_SOCKETS", "FETCH_SOCKETS", "FETCH_SOCKETS_RESPONSE",
		"SERVER_SIDE_EMIT", "SERVER_SIDE_EMIT_RESPONSE", "BROADCAST_CLIENT_COUNT", "BROADCAST_ACK",
		"ADAPTER_CLOSE"}
	if t >= 1 && int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("MessageType(%d)", int(t))
}

// IsResponse reports whether messages of this type answer a request.
func (t MessageType) IsResponse() bool {
	switch t {
	case MsgFetchSocketsResponse, MsgServerSideEmitResponse, MsgBroadcastClientCount, MsgBroadcastAck:
		return true
	}
	return false
}

// Envelope is the ClusterAdapter envelope {type, data, uid, nsp} with
// the fields of its data flattened. Which fields are meaningful depends on
// Type.
type Envelope struct {
	// Type selects which fields below are meaningful.
	Type MessageType
	// UID is the sender's uid (16 hex characters for Node).
	UID string
	// Nsp is the namespace.
	Nsp string

	// RequestID is set for requests that want answers and for responses.
	RequestID string
	// HasRequestID is set by the decoder when requestId was present.
	HasRequestID bool
	// Packet is the broadcast packet (3); its Nsp is not written.
	Packet Packet
	// Opts targets sockets (3, 4, 5, 6, 7).
	Opts Options
	// Rooms to join or leave (4, 5).
	Rooms []string
	// Close is the disconnectSockets argument (6).
	Close bool
	// Sockets answers FETCH_SOCKETS (8).
	Sockets []SocketInfo
	// EmitData is [event, ...args] of a server-side emit (9).
	EmitData []any
	// Value is the single acknowledgement value of 10 and 12.
	Value any
	// ClientCount answers a broadcast with ack (11).
	ClientCount int64
	// Msgpack sends the envelope as msgpack even without binary (Node
	// decodes either; see Response.Msgpack).
	Msgpack bool
	// TooLarge marks a FETCH_SOCKETS_RESPONSE sent without its sockets
	// because they exceeded the answerer's limit (see
	// Response.TooLarge).
	TooLarge bool
	// Member is what a Go server announces in its heartbeats (1, 2); nil
	// when the heartbeat carries no data (Node's ClusterAdapterWithHeartbeat
	// sends none).
	Member *MemberInfo
}

// MemberInfo is the data of a sioredis heartbeat. Node's adapters ignore
// the data of these types (the classic and sharded ones ignore the types
// altogether).
type MemberInfo struct {
	// Host is the sender's host name.
	Host string
	// Version is the sender's sioredis version.
	Version string
	// Capabilities are the request kinds the sender answers (fetchSockets,
	// allRooms, serverSideEmitWithAck, broadcastWithAck).
	Capabilities []string
	// HasCapabilities tells an empty list from an absent one (a sender that
	// does not say what it answers is assumed to answer everything).
	HasCapabilities bool
	// StartedAt is when the sender started, in Unix milliseconds.
	StartedAt int64
}

// EncodeEnvelope encodes the envelope as socket.io-adapter does: JSON,
// unless the data of a type that may carry binary (3, 8, 9, 10, 12) holds
// binary, in which case the whole envelope is msgpack.
func EncodeEnvelope(m *Envelope) ([]byte, error) {
	data, binaryCapable, err := envelopeData(m)
	if err != nil {
		return nil, err
	}
	env := codec.Object{{"type", int(m.Type)}}
	if data != nil {
		env = append(env, codec.Member{"data", data})
	}
	env = append(env, codec.Member{"uid", m.UID}, codec.Member{"nsp", m.Nsp})
	if m.Msgpack || (binaryCapable && codec.HasBinary(data)) {
		return codec.MarshalMsgpack(env)
	}
	return codec.MarshalJSON(env)
}

// envelopeData builds the data object of an envelope (nil for the types
// without data) and tells whether its type may carry binary (3, 8, 9, 10,
// 12), the types socket.io-adapter and the streams adapter send as msgpack
// when their data holds binary.
func envelopeData(m *Envelope) (data codec.Object, binaryCapable bool, err error) {
	switch m.Type {
	case MsgInitialHeartbeat, MsgHeartbeat:
		if mi := m.Member; mi != nil {
			data = codec.Object{{"host", mi.Host}, {"version", mi.Version}}
			if mi.HasCapabilities || mi.Capabilities != nil {
				data = append(data, codec.Member{"capabilities", stringsToAny(mi.Capabilities)})
			}
			data = append(data, codec.Member{"startedAt", mi.StartedAt})
		}
	case MsgAdapterClose:
	case MsgBroadcast:
		binaryCapable = true
		data = codec.Object{{"packet", m.Packet.wire(false)}}
		if m.RequestID != "" {
			data = append(data, codec.Member{"requestId", m.RequestID})
		}
		data = append(data, codec.Member{"opts", m.Opts.wire(layoutAdapter)})
	case MsgSocketsJoin, MsgSocketsLeave:
		data = codec.Object{{"opts", m.Opts.wire(layoutAdapter)}, {"rooms", stringsToAny(m.Rooms)}}
	case MsgDisconnectSockets:
		data = codec.Object{{"opts", m.Opts.wire(layoutAdapter)}, {"close", m.Close}}
	case MsgFetchSockets:
		data = codec.Object{{"opts", m.Opts.wire(layoutAdapter)}, {"requestId", m.RequestID}}
	case MsgFetchSocketsResponse:
		binaryCapable = true
		socks, err := socketsWire(m.Sockets, m.Msgpack)
		if err != nil {
			return nil, false, err
		}
		data = codec.Object{{"requestId", m.RequestID}, {"sockets", socks}}
		if m.TooLarge {
			data = append(data, codec.Member{TooLargeKey, true})
		}
	case MsgServerSideEmit:
		binaryCapable = true
		emit, err := codec.ToWire(m.EmitData)
		if err != nil {
			return nil, false, err
		}
		if m.RequestID != "" {
			data = codec.Object{{"requestId", m.RequestID}}
		}
		data = append(data, codec.Member{"packet", emit})
	case MsgServerSideEmitResponse, MsgBroadcastAck:
		binaryCapable = true
		v, err := codec.ToWire(m.Value)
		if err != nil {
			return nil, false, err
		}
		data = codec.Object{{"requestId", m.RequestID}, {"packet", v}}
	case MsgBroadcastClientCount:
		data = codec.Object{{"requestId", m.RequestID}, {"clientCount", m.ClientCount}}
	default:
		return nil, false, fmt.Errorf("sioredis: cannot encode envelope type %d", m.Type)
	}
	return data, binaryCapable, nil
}

// DecodeEnvelope decodes an envelope, JSON when the first byte is '{',
// msgpack otherwise. Unknown types decode with only the envelope fields set.
func DecodeEnvelope(payload []byte) (*Envelope, error) {
	return decodeEnvelope(payload, false)
}

// decodeEnvelope decodes the data of a FETCH_SOCKETS_RESPONSE typed:
// at once when the type comes before the data (Node and Go write it
// first), in a second pass (fetchData) otherwise.
func decodeEnvelope(payload []byte, fetchData bool) (*Envelope, error) {
	tr, err := codec.NewTokens(payload)
	if err != nil {
		return nil, err
	}
	var socks socketList
	var data map[string]any // a typed-decoded data, nil otherwise
	env, err := readObject(tr, "message", func(key string, env map[string]any) (bool, error) {
		if key != "data" || !fetchData && env["type"] != any(float64(MsgFetchSocketsResponse)) {
			return false, nil
		}
		d, err := readObject(tr, "data", func(key string, _ map[string]any) (bool, error) {
			if key != "sockets" {
				return false, nil
			}
			var err error
			socks, err = readSocketList(tr, false)
			return true, err
		})
		if d == nil {
			d = map[string]any{}
		}
		data = d
		return true, err
	})
	if err != nil {
		return nil, err
	}
	if err := tr.End(); err != nil {
		return nil, err
	}
	if data != nil {
		if env == nil {
			env = map[string]any{}
		}
		env["data"] = data
	}
	t, ok, err := optInt(env, "type")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: message without type", codec.ErrMalformed)
	}
	m := &Envelope{Type: MessageType(t)}
	if m.UID, _, err = optString(env, "uid"); err != nil {
		return nil, err
	}
	if m.Nsp, _, err = optString(env, "nsp"); err != nil {
		return nil, err
	}
	var d map[string]any
	switch m.Type {
	case MsgInitialHeartbeat, MsgHeartbeat:
		if raw, ok := env["data"]; ok && raw != nil {
			if m.Member, err = decodeMemberInfo(raw); err != nil {
				return nil, err
			}
		}
		return m, nil
	case MsgAdapterClose:
		return m, nil
	case MsgBroadcast, MsgSocketsJoin, MsgSocketsLeave, MsgDisconnectSockets, MsgFetchSockets,
		MsgFetchSocketsResponse, MsgServerSideEmit, MsgServerSideEmitResponse,
		MsgBroadcastClientCount, MsgBroadcastAck:
		if d, err = asMap(env["data"], "data"); err != nil {
			return nil, err
		}
	default:
		return m, nil
	}
	if m.RequestID, m.HasRequestID, err = optRequestID(d); err != nil {
		return nil, err
	}
	switch m.Type {
	case MsgBroadcast:
		if m.Packet, err = decodePacket(d["packet"]); err != nil {
			return nil, err
		}
		m.Packet.Nsp = ""
		m.Opts, err = decodeOptions(d["opts"])
	case MsgSocketsJoin, MsgSocketsLeave:
		if m.Opts, err = decodeOptions(d["opts"]); err != nil {
			return nil, err
		}
		m.Rooms, err = optStrings(d, "rooms")
	case MsgDisconnectSockets:
		if m.Opts, err = decodeOptions(d["opts"]); err != nil {
			return nil, err
		}
		m.Close, err = optBool(d, "close")
	case MsgFetchSockets:
		m.Opts, err = decodeOptions(d["opts"])
	case MsgFetchSocketsResponse:
		if data == nil && !fetchData {
			return decodeEnvelope(payload, true)
		}
		if socks.present {
			m.Sockets = socks.infos
		}
		m.TooLarge, _ = d[TooLargeKey].(bool)
	case MsgServerSideEmit:
		m.EmitData, err = decodeEventData(d["packet"], "server-side emit packet")
	case MsgServerSideEmitResponse, MsgBroadcastAck:
		m.Value = d["packet"]
	case MsgBroadcastClientCount:
		n, ok, e := optInt(d, "clientCount")
		if e == nil && (!ok || n < 0) {
			e = fmt.Errorf("%w: clientCount missing or negative", codec.ErrMalformed)
		}
		m.ClientCount, err = n, e
	}
	if err != nil {
		return nil, err
	}
	if m.Type.IsResponse() || m.Type == MsgFetchSockets {
		if !m.HasRequestID || m.RequestID == "" {
			return nil, fmt.Errorf("%w: %s without requestId", codec.ErrMalformed, m.Type)
		}
	}
	return m, nil
}

// decodeMemberInfo reads the data of a sioredis heartbeat.
func decodeMemberInfo(raw any) (*MemberInfo, error) {
	d, err := asMap(raw, "heartbeat data")
	if err != nil {
		return nil, err
	}
	mi := &MemberInfo{}
	if mi.Host, _, err = optString(d, "host"); err != nil {
		return nil, err
	}
	if mi.Version, _, err = optString(d, "version"); err != nil {
		return nil, err
	}
	if v, ok := d["capabilities"]; ok && v != nil {
		if mi.Capabilities, err = optStrings(d, "capabilities"); err != nil {
			return nil, err
		}
		mi.HasCapabilities = true
	}
	if mi.StartedAt, _, err = optInt(d, "startedAt"); err != nil {
		return nil, err
	}
	return mi, nil
}

// IsHeartbeatPayload tells, from its first bytes, whether payload is a
// JSON envelope of type 1, 2 or 13 as Go writes it (type first), so that a
// receiver can handle heartbeats without queueing them behind other
// messages. Anything else answers false and goes the ordinary way.
func IsHeartbeatPayload(payload string) bool {
	for _, p := range [...]string{`{"type":1,`, `{"type":2,`, `{"type":13,`} {
		if len(payload) >= len(p) && payload[:len(p)] == p {
			return true
		}
	}
	return false
}
