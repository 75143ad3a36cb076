package protocol

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"
)

const (
	fixtureSID   = "Xk3vQ9mZ2pL7aB1cAAAB"
	shardedA     = "a1a1a1a1a1a1a1a1"
	shardedB     = "b2b2b2b2b2b2b2b2"
	fixtureHTime = "Sat Nov 21 2026 09:00:00 GMT+0000 (Coordinated Universal Time)"
)

// fixtureSocket is the remote socket of the vectors' fetchSockets answers,
// in Go's shape (canonical header names, []string values).
func fixtureSocket() SocketInfo {
	return SocketInfo{
		ID: fixtureSID,
		Handshake: &Handshake{
			Headers: map[string][]string{"Host": {"localhost:3000"}},
			Time:    fixtureHTime,
			Address: "::ffff:127.0.0.1",
			Issued:  1795251600000,
			Url:     "/socket.io/?EIO=4&transport=websocket",
			Query:   map[string][]string{"EIO": {"4"}, "transport": {"websocket"}},
			Auth:    map[string]any{},
		},
		Rooms: []string{fixtureSID, "room1"},
		Data:  map[string]any{"user": "bob"},
	}
}

// vectorWant is what a vector must decode to, and how it is re-encoded.
type vectorWant struct {
	// want is a *Broadcast, *Request, *Response or *Envelope.
	want any
	// emitter selects EncodeEmitterBroadcast.
	emitter bool
	// respType is the request type a response answers, which Node does not
	// write for every response (the requester knows it).
	respType RequestType
	// channel rebuilds the vector's channel with the channel functions.
	channel func(got any) string
}

func broadcastChannelOf(got any) string {
	b := got.(*Broadcast)
	return BroadcastChannelFor(DefaultPrefix, b.Packet.Nsp, b.Opts.Rooms)
}

func requestChannel(any) string { return RequestChannel(DefaultPrefix, "/") }

func sharedResponseChannel(any) string { return ResponseChannel(DefaultPrefix, "/") }

func specificResponseChannel(uid string) func(any) string {
	return func(any) string { return SpecificResponseChannel(DefaultPrefix, "/", uid) }
}

func clusterMainChannel(got any) string {
	return BroadcastChannel(DefaultPrefix, got.(*Envelope).Nsp)
}

func clusterRoomChannel(got any) string {
	m := got.(*Envelope)
	return RoomChannel(DefaultPrefix, m.Nsp, m.Opts.Rooms[0])
}

func clusterPrivateChannel(requester string) func(any) string {
	return func(got any) string { return PrivateChannel(DefaultPrefix, got.(*Envelope).Nsp, requester) }
}

func vectorExpectations() map[string]vectorWant {
	second := time.Second
	noRooms := []string{}
	return map[string]vectorWant{
		// Classic adapter broadcasts.
		"V1.1": {want: &Broadcast{UID: "nodeA1",
			Packet: Packet{Type: 2, Data: []any{"hello", "world", 42.0}, Nsp: "/"},
			Opts:   Options{Rooms: []string{"room1"}, Except: []string{"room2"}}},
			channel: broadcastChannelOf},
		"V5b.1": {want: &Broadcast{UID: "nodeA2",
			Packet: Packet{Type: 2, Data: []any{"adminEvent"}, Nsp: "/admin"},
			Opts:   Options{Rooms: []string{"x"}, Except: noRooms}},
			channel: broadcastChannelOf},
		"V5c.1": {want: &Broadcast{UID: "nodeA1",
			Packet: Packet{Type: 2, Data: []any{"multi", []byte{0xde, 0xad}}, Nsp: "/"},
			Opts: Options{Rooms: []string{"r1", "r2"}, Except: noRooms,
				Flags: Flags{Volatile: true, Compress: ptr(false)}}},
			channel: broadcastChannelOf},
		"V5d.1": {want: &Broadcast{UID: "nodeA1",
			Packet: Packet{Type: 2, Data: []any{"direct", 1.0}, Nsp: "/"},
			Opts: Options{Rooms: []string{fixtureSID}, Except: noRooms,
				Flags: Flags{ExpectSingleResponse: true}}},
			channel: broadcastChannelOf},

		// Classic requests and responses.
		"V2.1": {want: &Request{UID: "nodeA1", RequestID: "req001", HasRequestID: true, Type: RequestRemoteFetch,
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}},
			channel: requestChannel},
		"V2.2": {want: &Response{Type: -1, RequestID: "req001", Sockets: []SocketInfo{fixtureSocket()}},
			respType: RequestRemoteFetch, channel: specificResponseChannel("nodeA1")},
		"V3.1": {want: &Request{UID: "nodeA1", RequestID: "req002", HasRequestID: true, Type: RequestServerSideEmit,
			Data: []any{"ping", 1.0}},
			channel: requestChannel},
		"V3.2": {want: &Response{Type: RequestServerSideEmit, RequestID: "req002", Data: "pong-1"},
			respType: RequestServerSideEmit, channel: sharedResponseChannel},
		"V3b.1": {want: &Request{UID: "nodeA1", Type: RequestServerSideEmit,
			Data: []any{"notify", map[string]any{"a": 1.0}}},
			channel: requestChannel},
		"V4.1": {want: &Request{UID: "nodeA1", RequestID: "req003", HasRequestID: true, Type: RequestBroadcast,
			Packet: Packet{Type: 2, Data: []any{"question", "q?"}, Nsp: "/"},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms, Flags: Flags{Timeout: &second}}},
			channel: requestChannel},
		"V4.2": {want: &Response{Type: RequestBroadcastClientCount, RequestID: "req003", ClientCount: 1},
			respType: RequestBroadcastClientCount, channel: specificResponseChannel("nodeA1")},
		"V4.3": {want: &Response{Type: RequestBroadcastAck, RequestID: "req003", Ack: "answer!"},
			respType: RequestBroadcastAck, channel: specificResponseChannel("nodeA1")},
		"V5.1": {want: &Request{UID: "nodeA1", Type: RequestRemoteJoin,
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}, Rooms: []string{"room3"}},
			channel: requestChannel},
		"V5.2": {want: &Request{UID: "nodeA1", Type: RequestRemoteDisconnect,
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}, Close: true},
			channel: requestChannel},
		"V5.3": {want: &Request{UID: "nodeA1", RequestID: "req004", HasRequestID: true, Type: RequestAllRooms},
			channel: requestChannel},
		"V5.4": {want: &Response{Type: -1, RequestID: "req004", Rooms: []string{fixtureSID, "room1", "room3"}},
			respType: RequestAllRooms, channel: specificResponseChannel("nodeA1")},

		// Emitter (V6, docs/protocol.md §8).
		"V6.1": {want: &Broadcast{UID: EmitterUID,
			Packet: Packet{Type: 2, Data: []any{"news", []byte{1, 2, 3}, map[string]any{"n": 1.5}}, Nsp: "/"},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms, Flags: Flags{Volatile: true}}},
			emitter: true, channel: broadcastChannelOf},
		"V6.2": {want: &Broadcast{UID: EmitterUID,
			Packet: Packet{Type: 2, Data: []any{"x"}, Nsp: "/admin"},
			Opts:   Options{Rooms: noRooms, Except: []string{"room2"}}},
			emitter: true, channel: broadcastChannelOf},
		"V6.3": {want: &Request{Type: RequestRemoteJoin,
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}, Rooms: []string{"room9"}},
			channel: requestChannel},
		"V6.4": {want: &Request{UID: EmitterUID, Type: RequestServerSideEmit, Data: []any{"hi", 1.0}},
			channel: requestChannel},

		// Sharded adapter (V6 and the sharded parts of V3 in the reference
		// text; V7-V10b in the JSON file).
		"V7.1": {want: &Envelope{Type: MsgBroadcast, UID: shardedA, Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"hello", "world"}},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms}},
			channel: clusterRoomChannel},
		"V7.2": {want: &Envelope{Type: MsgBroadcast, UID: shardedA, Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"hello2"}},
			Opts:   Options{Rooms: []string{"room1"}, Except: []string{"room2"}}},
			channel: clusterRoomChannel},
		"V7.3": {want: &Envelope{Type: MsgBroadcast, UID: shardedA, Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"private"}},
			Opts:   Options{Rooms: []string{fixtureSID}, Except: noRooms}},
			channel: clusterMainChannel},
		"V7.4": {want: &Envelope{Type: MsgBroadcast, UID: shardedA, Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"bin", []byte{1, 2, 3}}},
			Opts:   Options{Rooms: noRooms, Except: noRooms}},
			channel: clusterMainChannel},
		"V8.1": {want: &Envelope{Type: MsgFetchSockets, UID: shardedA, Nsp: "/",
			RequestID: "0123456789abcdef", HasRequestID: true,
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}},
			channel: clusterMainChannel},
		"V8.2": {want: &Envelope{Type: MsgFetchSocketsResponse, UID: shardedB, Nsp: "/",
			RequestID: "0123456789abcdef", HasRequestID: true, Sockets: []SocketInfo{fixtureSocket()}},
			channel: clusterPrivateChannel(shardedA)},
		"V9.1": {want: &Envelope{Type: MsgServerSideEmit, UID: shardedA, Nsp: "/",
			RequestID: "fedcba9876543210", HasRequestID: true, EmitData: []any{"ping", 2.0}},
			channel: clusterMainChannel},
		"V9.2": {want: &Envelope{Type: MsgServerSideEmitResponse, UID: shardedB, Nsp: "/",
			RequestID: "fedcba9876543210", HasRequestID: true, Value: "pong-2"},
			channel: clusterPrivateChannel(shardedA)},
		"V10.1": {want: &Envelope{Type: MsgBroadcast, UID: shardedA, Nsp: "/",
			RequestID: "1111111111111111", HasRequestID: true,
			Packet: Packet{Type: 2, Data: []any{"question"}},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms, Flags: Flags{Timeout: &second}}},
			channel: clusterMainChannel},
		"V10.2": {want: &Envelope{Type: MsgBroadcastClientCount, UID: shardedB, Nsp: "/",
			RequestID: "1111111111111111", HasRequestID: true, ClientCount: 1},
			channel: clusterPrivateChannel(shardedA)},
		"V10.3": {want: &Envelope{Type: MsgBroadcastAck, UID: shardedB, Nsp: "/",
			RequestID: "1111111111111111", HasRequestID: true, Value: map[string]any{"ok": true}},
			channel: clusterPrivateChannel(shardedA)},
		"V10.4": {want: &Envelope{Type: MsgSocketsLeave, UID: shardedA, Nsp: "/",
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}, Rooms: []string{"room1"}},
			channel: clusterMainChannel},
		"V10.5": {want: &Envelope{Type: MsgDisconnectSockets, UID: shardedA, Nsp: "/",
			Opts: Options{Rooms: noRooms, Except: noRooms}},
			channel: clusterMainChannel},
		"V10b.1": {want: &Envelope{Type: MsgBroadcast, UID: "e5e5e5e5e5e5e5e5", Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"s1"}},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms}},
			channel: clusterMainChannel}, // static mode: everything on the main channel
		"V10b.2": {want: &Envelope{Type: MsgBroadcast, UID: "f6f6f6f6f6f6f6f6", Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"p1"}},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms}},
			channel: clusterRoomChannel},
		"V10b.3": {want: &Envelope{Type: MsgBroadcast, UID: "f6f6f6f6f6f6f6f6", Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"p2"}},
			Opts:   Options{Rooms: []string{"BBBBBBBBBBBBBBBBBBBB"}, Except: noRooms}},
			channel: clusterRoomChannel}, // dynamic-private: socket-id rooms get a channel too
	}
}

// TestNodeVectors decodes every classic, emitter and sharded message recorded
// from Node, checks the typed value, re-encodes it with the Go encoder and
// compares the bytes with Node's.
func TestNodeVectors(t *testing.T) {
	expect := vectorExpectations()
	seen := map[string]bool{}
	for _, v := range loadVectors(t) {
		if v.IsStreams() {
			// Redis streams adapter (V11, docs/protocol.md §5):
			// XADD entries and @msgpack/msgpack envelopes, out of scope.
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			w, ok := expect[v.Name]
			if !ok {
				t.Fatalf("no expectation for vector %s (%s)", v.Name, v.Title)
			}
			seen[v.Name] = true
			payload := v.Payload(t)

			// The generic decoders read the payload as the logical value.
			if d := diff(v.LogicalValue(t), genericPayload(t, payload)); d != "" {
				t.Errorf("generic decode differs from the vector's logical value: %s", d)
			}

			var got any
			var err error
			switch decoderFor(v) {
			case "broadcast":
				got, err = DecodeBroadcast(payload)
			case "request":
				got, err = DecodeRequest(payload)
			case "response":
				got, err = DecodeResponse(payload)
			case "cluster":
				got, err = DecodeEnvelope(payload)
			default:
				t.Fatalf("no decoder for %s %s", v.Command, v.Channel)
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d := diff(w.want, got); d != "" {
				t.Fatalf("decoded value: %s", d)
			}

			if ch := w.channel(got); ch != v.Channel {
				t.Errorf("channel: got %q, want %q", ch, v.Channel)
			}
			if b, ok := got.(*Broadcast); ok {
				room, ok := RoomFromChannel(DefaultPrefix, b.Packet.Nsp, v.Channel)
				wantRoom := ""
				if len(b.Opts.Rooms) == 1 {
					wantRoom = b.Opts.Rooms[0]
				}
				if !ok || room != wantRoom {
					t.Errorf("RoomFromChannel(%q) = %q, %v; want %q", v.Channel, room, ok, wantRoom)
				}
			}

			var enc []byte
			switch x := got.(type) {
			case *Broadcast:
				if w.emitter {
					enc, err = EncodeEmitterBroadcast(x)
				} else {
					enc, err = EncodeBroadcast(x)
				}
			case *Request:
				enc, err = EncodeRequest(x)
			case *Response:
				x.Type = w.respType
				enc, err = EncodeResponse(x)
			case *Envelope:
				enc, err = EncodeEnvelope(x)
			}
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			switch v.Format {
			case "msgpack":
				if !bytes.Equal(enc, payload) {
					t.Errorf("msgpack differs from Node's\n got %s\nwant %s", hex.EncodeToString(enc), v.Hex)
				}
			case "json":
				// Same fields and values...
				if d := diff(genericJSON(t, payload), genericJSON(t, enc)); d != "" {
					t.Errorf("JSON fields differ: %s", d)
				}
				// ...and, since every object in these vectors has its keys in
				// Node's order (handshake headers and query are written sorted,
				// which these single-key / already-sorted maps are), the same
				// bytes.
				if !bytes.Equal(enc, payload) {
					t.Errorf("JSON bytes differ from Node's\n got %s\nwant %s", enc, payload)
				}
			}
		})
	}
	for name := range expect {
		if !seen[name] {
			t.Errorf("expectation %s matches no vector", name)
		}
	}
}

// TestChannelNames covers the channel helpers beyond the vectors.
func TestChannelNames(t *testing.T) {
	cases := []struct{ got, want string }{
		{BroadcastChannel("socket.io", "/"), "socket.io#/#"},
		{BroadcastChannel("p", "/admin"), "p#/admin#"},
		{RoomChannel("socket.io", "/", "room1"), "socket.io#/#room1#"},
		{RoomChannel("socket.io", "/", "a#b"), "socket.io#/#a#b#"},
		{BroadcastChannelFor("socket.io", "/", nil), "socket.io#/#"},
		{BroadcastChannelFor("socket.io", "/", []string{"r"}), "socket.io#/#r#"},
		{BroadcastChannelFor("socket.io", "/", []string{"r1", "r2"}), "socket.io#/#"},
		{BroadcastPattern("socket.io", "/"), "socket.io#/#*"},
		{BroadcastPattern("a*b", "/n?[x]"), `a\*b#/n\?\[x\]#*`},
		{BroadcastPattern(`p\`, "/^"), `p\\#/\^#*`},
		{RequestChannel("socket.io", "/"), "socket.io-request#/#"},
		{ResponseChannel("socket.io", "/admin"), "socket.io-response#/admin#"},
		{SpecificResponseChannel("socket.io", "/", "nodeA1"), "socket.io-response#/#nodeA1#"},
		{PrivateChannel("socket.io", "/", shardedA), "socket.io#/#a1a1a1a1a1a1a1a1#"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	rooms := []struct {
		channel, room string
		ok            bool
	}{
		{"socket.io#/#", "", true},
		{"socket.io#/#room1#", "room1", true},
		{"socket.io#/#a#b#", "a#b", true},
		{"socket.io#/admin#x#", "", false},
		{"other#/#x#", "", false},
	}
	for _, r := range rooms {
		room, ok := RoomFromChannel("socket.io", "/", r.channel)
		if room != r.room || ok != r.ok {
			t.Errorf("RoomFromChannel(%q) = %q, %v; want %q, %v", r.channel, room, ok, r.room, r.ok)
		}
	}
}

func TestIDs(t *testing.T) {
	for _, c := range []struct {
		id  string
		n   int
		set string
	}{
		{NewClassicUID(), 6, uidChars},
		{NewRequestID(), 12, uidChars},
		{NewShardedUID(), 16, "0123456789abcdef"},
	} {
		if len(c.id) != c.n {
			t.Errorf("%q: length %d, want %d", c.id, len(c.id), c.n)
		}
		for _, r := range c.id {
			if !bytes.ContainsRune([]byte(c.set), r) {
				t.Errorf("%q: unexpected character %q", c.id, r)
			}
		}
	}
	if NewShardedUID() == NewShardedUID() {
		t.Error("cluster uids repeat")
	}
}
