package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	streamsA = "c3c3c3c3c3c3c3c3"
	streamsB = "d4d4d4d4d4d4d4d4"
)

// orderedFields reads a vector's fields object keeping Node's order.
func orderedFields(tb testing.TB, raw json.RawMessage) ([]string, map[string]string) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		tb.Fatal(err)
	}
	var keys []string
	m := map[string]string{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			tb.Fatal(err)
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			tb.Fatal(err)
		}
		keys = append(keys, k.(string))
		m[k.(string)] = v
	}
	return keys, m
}

// TestStreamsVectors checks every message recorded from
// @socket.io/redis-streams-adapter 0.3.1: the XADD entries decode to the
// expected envelope and re-encode to the same fields, in the same order,
// byte for byte; the pub/sub envelopes (always msgpack there) re-encode to
// Node's bytes; the stored session decodes and re-encodes identically.
func TestStreamsVectors(t *testing.T) {
	second2 := 2 * time.Second
	noRooms := []string{}
	envelopes := map[string]*Envelope{
		"V11.1": {Type: MsgBroadcast, UID: streamsA, Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"hello", "world"}},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms}},
		"V11.2": {Type: MsgBroadcast, UID: streamsA, Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"bin", []byte{1, 2, 3}}},
			Opts:   Options{Rooms: noRooms, Except: noRooms}},
		"V11.3": {Type: MsgSocketsJoin, UID: streamsA, Nsp: "/",
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}, Rooms: []string{"room5"}},
		"V11.4": {Type: MsgFetchSockets, UID: streamsA, Nsp: "/", RequestID: "2222222222222222", HasRequestID: true,
			Opts: Options{Rooms: noRooms, Except: noRooms}},
		"V11.5": {Type: MsgFetchSocketsResponse, UID: streamsB, Nsp: "/", RequestID: "2222222222222222",
			HasRequestID: true, Sockets: []SocketInfo{func() SocketInfo {
				s := fixtureSocket()
				s.Rooms = []string{fixtureSID, "room1", "room5"}
				return s
			}()}},
		"V12.1": {Type: MsgServerSideEmit, UID: streamsA, Nsp: "/", EmitData: []any{"notify", map[string]any{"a": 1.0}}},
		"V12.2": {Type: MsgServerSideEmit, UID: streamsA, Nsp: "/", RequestID: "3333333333333333", HasRequestID: true,
			EmitData: []any{"ping", 3.0}},
		"V12.3": {Type: MsgServerSideEmitResponse, UID: streamsB, Nsp: "/", RequestID: "3333333333333333",
			HasRequestID: true, Value: "pong-3"},
		"V12.4": {Type: MsgBroadcast, UID: streamsA, Nsp: "/", RequestID: "4444444444444444", HasRequestID: true,
			Packet: Packet{Type: 2, Data: []any{"question", "q?"}},
			Opts:   Options{Rooms: []string{"room1"}, Except: noRooms, Flags: Flags{Timeout: &second2}}},
		"V12.5": {Type: MsgBroadcastClientCount, UID: streamsB, Nsp: "/", RequestID: "4444444444444444",
			HasRequestID: true, ClientCount: 1},
		"V12.6": {Type: MsgBroadcastAck, UID: streamsB, Nsp: "/", RequestID: "4444444444444444",
			HasRequestID: true, Value: "answer!"},
		"V12.7": {Type: MsgSocketsLeave, UID: streamsA, Nsp: "/",
			Opts: Options{Rooms: []string{"room1"}, Except: noRooms}, Rooms: []string{"room5"}},
		"V12.8": {Type: MsgDisconnectSockets, UID: streamsA, Nsp: "/",
			Opts: Options{Rooms: noRooms, Except: []string{"room9"}}},
		"V13.1": {Type: MsgBroadcast, UID: "e7e7e7e7e7e7e7e7", Nsp: "/",
			Packet: Packet{Type: 2, Data: []any{"a", 1.0}}, Opts: Options{Rooms: noRooms, Except: noRooms}},
		"V13.2": {Type: MsgBroadcast, UID: "e8e8e8e8e8e8e8e8", Nsp: "/admin",
			Packet: Packet{Type: 2, Data: []any{"b", 2.0}}, Opts: Options{Rooms: noRooms, Except: noRooms}},
		"V13.3": {Type: MsgBroadcast, UID: "e9e9e9e9e9e9e9e9", Nsp: "/chat",
			Packet: Packet{Type: 2, Data: []any{"c", 3.5}}, Opts: Options{Rooms: noRooms, Except: noRooms}},
	}
	seen := map[string]bool{}
	for _, v := range loadVectors(t) {
		if !v.IsStreams() {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			seen[v.Name] = true
			switch v.Command {
			case "XADD":
				keys, fields := orderedFields(t, v.Fields)
				opts := fields["_opts"]
				delete(fields, "_opts")
				maxLen := "10000"
				if v.Section == "V13" {
					maxLen = "500"
				}
				if want := `{"TRIM":{"strategy":"MAXLEN","strategyModifier":"~","threshold":` + maxLen + `}}`; opts != want {
					t.Errorf("XADD options %s, want %s", opts, want)
				}
				in := map[string]any{}
				for k, s := range fields {
					in[k] = s
				}
				got, err := DecodeStreamEntry(in)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(envelopes[v.Name], got); d != "" {
					t.Fatalf("decoded: %s", d)
				}
				count := 1
				if v.Section == "V13" {
					count = 3
				}
				if s := StreamFor(DefaultStreamName, count, got.Nsp); s != v.Channel {
					t.Errorf("stream %q, want %q", s, v.Channel)
				}
				enc, err := EncodeStreamEntry(got, false)
				if err != nil {
					t.Fatal(err)
				}
				var want StreamEntry
				for _, k := range keys {
					if k != "_opts" {
						want = append(want, k, fields[k])
					}
				}
				if strings.Join(enc, "\x00") != strings.Join(want, "\x00") {
					t.Errorf("entry differs from Node's\n got %q\nwant %q", enc, want)
				}
			case "SET":
				_, fields := orderedFields(t, v.Fields)
				if !strings.HasPrefix(v.Channel, DefaultSessionKeyPrefix) || fields["opts"] != `{"PX":120000}` {
					t.Errorf("SET %s %s", v.Channel, fields["opts"])
				}
				s, err := DecodeSession(fields["value"])
				if err != nil {
					t.Fatal(err)
				}
				want := &Session{Sid: fixtureSID, Pid: "pid1", Rooms: []string{fixtureSID, "room1"},
					Data: map[string]any{"user": "bob"}}
				if d := diff(want, s); d != "" {
					t.Fatalf("session: %s", d)
				}
				if v.Channel != DefaultSessionKeyPrefix+s.Pid {
					t.Errorf("key %s", v.Channel)
				}
				enc, err := EncodeSession(s)
				if err != nil {
					t.Fatal(err)
				}
				if enc != fields["value"] {
					t.Errorf("session differs from Node's\n got %s\nwant %s", enc, fields["value"])
				}
			case "PUBLISH":
				payload := v.Payload(t)
				got, err := DecodeEnvelope(payload)
				if err != nil {
					t.Fatal(err)
				}
				if d := diff(envelopes[v.Name], got); d != "" {
					t.Fatalf("decoded: %s", d)
				}
				ch := BroadcastChannel(DefaultPrefix, "/")
				if got.Type.IsResponse() {
					ch = PrivateChannel(DefaultPrefix, "/", streamsA)
				}
				if ch != v.Channel {
					t.Errorf("channel %q, want %q", ch, v.Channel)
				}
				if !IsEphemeral(got) && !got.Type.IsResponse() {
					t.Errorf("%s went over pub/sub but is not ephemeral here", got.Type)
				}
				got.Msgpack = true
				enc, err := EncodeEnvelope(got)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(enc, payload) {
					t.Errorf("msgpack differs from Node's\n got %s\nwant %s", hex.EncodeToString(enc), v.Hex)
				}
			default:
				t.Fatalf("unexpected command %s", v.Command)
			}
		})
	}
	for name := range envelopes {
		if !seen[name] {
			t.Errorf("expectation %s matches no vector", name)
		}
	}
}

func TestStreamFor(t *testing.T) {
	for _, c := range []struct {
		count     int
		nsp, want string
	}{
		{1, "/x", "socket.io"},
		{3, "/", "socket.io-2"},
		{3, "/admin", "socket.io-1"},
		{3, "/chat", "socket.io-1"},
		// JavaScript's remainder keeps the sign: hashCode("/zzzzzz") < 0.
		{4, "/zzzzzz", "socket.io--1"},
		{5, "/é😀", "socket.io-4"},
	} {
		if got := StreamFor("socket.io", c.count, c.nsp); got != c.want {
			t.Errorf("StreamFor(%d, %q) = %q, want %q", c.count, c.nsp, got, c.want)
		}
	}
}

func TestStreamEntryHostile(t *testing.T) {
	for _, f := range []map[string]any{
		{"uid": "a", "type": "3", "data": "{}"},                     // no nsp
		{"uid": "a", "nsp": "/", "type": "x", "data": "{}"},         // bad type
		{"uid": "a", "nsp": "/", "type": "3", "data": "{"},          // bad JSON
		{"uid": "a", "nsp": "/", "type": "3", "data": "!!!"},        // bad base64
		{"uid": "a", "nsp": "/", "type": "3", "data": "gA=="},       // msgpack {} : no packet
		{"uid": "a", "nsp": "/", "type": "3", "data": `{"x":1}x`},   // trailing
		{"uid": 1, "nsp": "/", "type": "3"},                         // not a string
		{"uid": "a", "nsp": "/", "type": "7", "data": `{"opts":1}`}, // bad opts
	} {
		if m, err := DecodeStreamEntry(f); err == nil {
			t.Errorf("%v decoded to %+v", f, m)
		}
	}
	if _, err := DecodeSession("gA=="); err == nil {
		t.Error("a session without sid decoded")
	}
	for s, ok := range map[string]bool{"1-0": true, "1700000000000-12": true, "1": false, "a-1": false, "1-": false, "$": false} {
		if ValidOffset(s) != ok {
			t.Errorf("ValidOffset(%q) != %v", s, ok)
		}
	}
	opts := Options{Rooms: []string{"r1"}, Except: []string{"x"}}
	if !SessionIncludes([]string{"sid", "r1"}, opts) || SessionIncludes([]string{"sid"}, opts) ||
		SessionIncludes([]string{"r1", "x"}, opts) || !SessionIncludes([]string{"a"}, Options{}) {
		t.Error("SessionIncludes")
	}
}
