package protocol

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sioredis/sioredis/internal/codec"
)

// ackPayload wraps a msgpack value as the packet of a BROADCAST_ACK
// response: {type:9, requestId:"r", packet:<value>}.
func ackPayload(t testing.TB, valueHex string) []byte {
	return mustHex(t, "83a47479706509a9726571756573744964a172a67061636b6574"+valueHex)
}

func TestDecodeNormalization(t *testing.T) {
	cases := []struct {
		name string
		hex  string
		want any
	}{
		{"positive fixint", "05", 5.0},
		{"negative fixint", "e0", -32.0},
		{"uint8", "ccff", 255.0},
		{"uint16", "cdffff", 65535.0},
		{"uint32", "ceffffffff", 4294967295.0},
		{"uint64", "cf0000018bcfe56800", 1.7e12},
		{"int8", "d080", -128.0},
		{"int16", "d18000", -32768.0},
		{"int32", "d280000000", -2147483648.0},
		{"int64", "d3fffffe74301a9800", -1.7e12},
		{"float32", "ca3fc00000", 1.5},
		{"float64", "cb3ff8000000000000", 1.5},
		{"NaN is what JSON makes of it", "cb7ff8000000000000", nil},
		{"Infinity likewise", "cb7ff0000000000000", nil},
		{"float32 -Infinity", "caff800000", nil},
		{"nil", "c0", nil},
		{"bool", "92c3c2", []any{true, false}},
		{"bin", "c403010203", []byte{1, 2, 3}},
		{"str8", "d90161", "a"},
		{"array of ints", "93010203", []any{1.0, 2.0, 3.0}},
		{"nested map", "81a16181a162cd0100", map[string]any{"a": map[string]any{"b": 256.0}}},
		{"integer keys", "820102ff03", map[string]any{"1": 2.0, "-1": 3.0}},
		{"uint keys", "81cd0100c3", map[string]any{"256": true}},
		{"float keys", "81cb3ff8000000000000c0", map[string]any{"1.5": nil}},
		{"big float key", "81cb444b1ae4d6e2ef50c0", map[string]any{"1e+21": nil}},
		{"small float key", "81cb3e7ad7f29abcaf48c0", map[string]any{"1e-7": nil}},
		{"bool and nil keys", "83c301c202c003", map[string]any{"true": 1.0, "false": 2.0, "null": 3.0}},
		{"bin key", "81c4016101", map[string]any{"a": 1.0}},
		{"timestamp32", "d6ff65937d20", "2024-01-02T03:04:00.000Z"},
		{"timestamp64 with nanoseconds", "d7ff016e360065937d25", "2024-01-02T03:04:05.006Z"},
		{"timestamp96 before 1970", "c70cff00000000ffffffffffffffff", "1969-12-31T23:59:59.000Z"},
		{"timestamp96 year 10000", "c70cff000000000000003afff44180", "+010000-01-01T00:00:00.000Z"},
		{"timestamp96 negative year", "c70cff00000000fffffff184aa5080", "-000001-01-01T00:00:00.000Z"},
		{"timestamp96 last valid Date", "c70cff00000000000007dba8218000", "+275760-09-13T00:00:00.000Z"},
		{"timestamp96 just after", "c70cff00000000000007dba8218001", nil},
		{"timestamp64 nanoseconds are truncated", "d7ffee6b27fc00000001", "1970-01-01T00:00:01.999Z"},
		{"timestamp96 outside Date range", "c70cff000000007fffffffffffffff", nil},
		{"timestamp in array", "91d6ff00000000", []any{"1970-01-01T00:00:00.000Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := DecodeResponse(ackPayload(t, c.hex))
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(c.want, r.Ack); d != "" {
				t.Error(d)
			}
		})
	}
	// JSON payloads decode to the same shapes.
	r, err := DecodeResponse([]byte(`{"type":9,"requestId":"r","packet":{"a":[1,2.5,null,true,"s"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(map[string]any{"a": []any{1.0, 2.5, nil, true, "s"}}, r.Ack); d != "" {
		t.Error(d)
	}
}

func TestRoomNamesFromNumbers(t *testing.T) {
	// JavaScript turns numeric room keys into their decimal form.
	r, err := DecodeRequest([]byte(`{"uid":"u","type":2,"opts":{"rooms":[1,1.5,1e21,-0,100000000000],"except":[]},"rooms":[7]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := diff([]string{"1", "1.5", "1e+21", "0", "100000000000"}, r.Opts.Rooms); d != "" {
		t.Error(d)
	}
	if d := diff([]string{"7"}, r.Rooms); d != "" {
		t.Error(d)
	}
}

func TestRequestID(t *testing.T) {
	cases := []struct {
		json    string
		id      string
		present bool
	}{
		{`{"uid":"u","type":6,"data":["e"]}`, "", false},
		{`{"uid":"u","requestId":null,"type":6,"data":["e"]}`, "", true},
		{`{"uid":"u","requestId":"abc","type":6,"data":["e"]}`, "abc", true},
		{`{"uid":"u","requestId":"","type":6,"data":["e"]}`, "", true},
		{`{"uid":"u","requestId":1234567,"type":6,"data":["e"]}`, "1234567", true},
	}
	for _, c := range cases {
		r, err := DecodeRequest([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if r.RequestID != c.id || r.HasRequestID != c.present {
			t.Errorf("%s: got %q %v, want %q %v", c.json, r.RequestID, r.HasRequestID, c.id, c.present)
		}
	}
	m, err := DecodeEnvelope([]byte(`{"type":9,"data":{"requestId":null,"packet":["e"]},"uid":"u","nsp":"/"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasRequestID || m.RequestID != "" {
		t.Errorf("cluster: got %q %v", m.RequestID, m.HasRequestID)
	}
	// A response whose requestId is null cannot be matched.
	if _, err := DecodeEnvelope([]byte(`{"type":10,"data":{"requestId":null,"packet":1},"uid":"u","nsp":"/"}`)); !errors.Is(err, codec.ErrMalformed) {
		t.Errorf("cluster response with null requestId: %v", err)
	}
	// requestId of the wrong type.
	if _, err := DecodeRequest([]byte(`{"uid":"u","requestId":true,"type":6,"data":["e"]}`)); !errors.Is(err, codec.ErrMalformed) {
		t.Errorf("boolean requestId: %v", err)
	}
}

// TestOptionalFieldsOmitted: Node tests "ack wanted" with
// requestId !== undefined, so an absent request id must be absent on the
// wire, never null; fields Node reads unconditionally are always written.
func TestOptionalFieldsOmitted(t *testing.T) {
	pkt := Packet{Type: 2, Data: []any{"e"}, Nsp: "/"}
	requests := []*Request{
		{UID: "u", Type: RequestSockets},
		{UID: "u", Type: RequestAllRooms},
		{UID: "u", Type: RequestRemoteJoin, Rooms: []string{"r"}},
		{UID: "u", Type: RequestRemoteLeave},
		{UID: "u", Type: RequestRemoteDisconnect},
		{UID: "u", Type: RequestRemoteJoin, Legacy: true, Sid: "s", Room: "r"},
		{UID: "u", Type: RequestRemoteDisconnect, Legacy: true, Sid: "s"},
		{UID: "u", Type: RequestRemoteFetch},
		{UID: "u", Type: RequestServerSideEmit, Data: []any{"e"}},
		{UID: "u", Type: RequestServerSideEmit, Data: []any{"e", []byte{1}}}, // msgpack
		{UID: "u", Type: RequestBroadcast, Packet: pkt},                      // msgpack
		{UID: "u", Type: RequestServerSideEmit, Data: []any{"e"}, HasRequestID: true},
	}
	for _, r := range requests {
		enc, err := EncodeRequest(r)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		m := genericPayload(t, enc).(map[string]any)
		if _, ok := m["requestId"]; ok {
			t.Errorf("type %v: requestId written: %s", r.Type, enc)
		}
		for k, v := range m {
			if v == nil {
				t.Errorf("type %v: %q is null: %s", r.Type, k, enc)
			}
		}
		back, err := DecodeRequest(enc)
		if err != nil {
			t.Fatal(err)
		}
		if back.HasRequestID {
			t.Errorf("type %v decodes as wanting an answer", r.Type)
		}
	}
	clusters := []*Envelope{
		{Type: MsgBroadcast, UID: "u", Nsp: "/", Packet: Packet{Type: 2, Data: []any{"e"}}},
		{Type: MsgBroadcast, UID: "u", Nsp: "/", Packet: Packet{Type: 2, Data: []any{"e", []byte{1}}}},
		{Type: MsgServerSideEmit, UID: "u", Nsp: "/", EmitData: []any{"e"}},
		{Type: MsgSocketsJoin, UID: "u", Nsp: "/"},
		{Type: MsgDisconnectSockets, UID: "u", Nsp: "/"},
		{Type: MsgHeartbeat, UID: "u", Nsp: "/"},
	}
	for _, m := range clusters {
		enc, err := EncodeEnvelope(m)
		if err != nil {
			t.Fatal(err)
		}
		env := genericPayload(t, enc).(map[string]any)
		if d, ok := env["data"].(map[string]any); ok {
			if _, ok := d["requestId"]; ok {
				t.Errorf("%v: requestId written: %s", m.Type, enc)
			}
		} else if _, ok := env["data"]; ok || m.Type != MsgHeartbeat {
			t.Errorf("%v: data %#v", m.Type, env["data"])
		}
	}

	// clientCount: 0 and sockets: [] are always written.
	alwaysThere := []struct {
		enc  func() ([]byte, error)
		path []string
		want any
	}{
		{func() ([]byte, error) {
			return EncodeResponse(&Response{Type: RequestBroadcastClientCount, RequestID: "r"})
		}, []string{"clientCount"}, 0.0},
		{func() ([]byte, error) { return EncodeResponse(&Response{Type: RequestRemoteFetch, RequestID: "r"}) },
			[]string{"sockets"}, []any{}},
		{func() ([]byte, error) { return EncodeResponse(&Response{Type: RequestAllRooms, RequestID: "r"}) },
			[]string{"rooms"}, []any{}},
		{func() ([]byte, error) { return EncodeResponse(&Response{Type: RequestSockets, RequestID: "r"}) },
			[]string{"sockets"}, []any{}},
		{func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgBroadcastClientCount, RequestID: "r"})
		}, []string{"data", "clientCount"}, 0.0},
		{func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgFetchSocketsResponse, RequestID: "r"})
		}, []string{"data", "sockets"}, []any{}},
		{func() ([]byte, error) { return EncodeRequest(&Request{Type: RequestRemoteJoin}) },
			[]string{"rooms"}, []any{}},
		{func() ([]byte, error) { return EncodeRequest(&Request{Type: RequestRemoteFetch, RequestID: "r"}) },
			[]string{"opts", "except"}, []any{}},
	}
	for i, c := range alwaysThere {
		enc, err := c.enc()
		if err != nil {
			t.Fatal(err)
		}
		var v any = genericPayload(t, enc)
		for _, k := range c.path {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("case %d: %s has no %v", i, enc, c.path)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("case %d: %s has no %v", i, enc, c.path)
			}
		}
		if d := diff(c.want, v); d != "" || v == nil {
			t.Errorf("case %d: %s: %s", i, enc, d)
		}
	}
}

// TestEncodeFormats checks which payloads are JSON and which msgpack.
func TestEncodeFormats(t *testing.T) {
	isJSON := func(b []byte) bool { return len(b) > 0 && b[0] == '{' }
	cases := []struct {
		name string
		enc  func() ([]byte, error)
		json bool
	}{
		{"server-side emit", func() ([]byte, error) {
			return EncodeRequest(&Request{UID: "u", Type: RequestServerSideEmit, Data: []any{"e", 1}})
		}, true},
		{"server-side emit with binary", func() ([]byte, error) {
			return EncodeRequest(&Request{UID: "u", Type: RequestServerSideEmit, Data: []any{"e", map[string]any{"b": []byte{1}}}})
		}, false},
		{"server-side emit with a reader", func() ([]byte, error) {
			return EncodeRequest(&Request{UID: "u", Type: RequestServerSideEmit, Data: []any{"e", []byte{1}}})
		}, false},
		{"broadcast request", func() ([]byte, error) {
			return EncodeRequest(&Request{UID: "u", RequestID: "r", Type: RequestBroadcast, Packet: Packet{Type: 2, Data: []any{"e"}}})
		}, false},
		{"ack response", func() ([]byte, error) {
			return EncodeResponse(&Response{Type: RequestBroadcastAck, RequestID: "r", Ack: "x"})
		}, false},
		{"server-side emit response with binary", func() ([]byte, error) {
			return EncodeResponse(&Response{Type: RequestServerSideEmit, RequestID: "r", Data: []byte{1}})
		}, false},
		{"fetch response with binary data", func() ([]byte, error) {
			return EncodeResponse(&Response{Type: RequestRemoteFetch, RequestID: "r",
				Sockets: []SocketInfo{{ID: "s", Data: map[string]any{"b": []byte{1}}}}})
		}, false},
		{"cluster broadcast", func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgBroadcast, Packet: Packet{Type: 2, Data: []any{"e"}}})
		}, true},
		{"cluster server-side emit with binary", func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgServerSideEmit, EmitData: []any{"e", []byte{1}}})
		}, false},
		{"cluster server-side emit with a reader", func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgServerSideEmit, EmitData: []any{"e", strings.NewReader("s")}})
		}, true},
		{"cluster ack with binary", func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgBroadcastAck, RequestID: "r", Value: []byte{1}})
		}, false},
		{"cluster fetch response with binary", func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgFetchSocketsResponse, RequestID: "r",
				Sockets: []SocketInfo{{ID: "s", Data: []byte{1}}}})
		}, false},
		{"cluster join never msgpack", func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgSocketsJoin, Rooms: []string{"r"}})
		}, true},
	}
	for _, c := range cases {
		enc, err := c.enc()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if isJSON(enc) != c.json {
			t.Errorf("%s: JSON=%v, want %v: %q", c.name, isJSON(enc), c.json, enc)
		}
	}
	// Values that cannot be encoded are errors, not silently dropped data.
	bad := []func() ([]byte, error){
		func() ([]byte, error) {
			return EncodeResponse(&Response{Type: RequestServerSideEmit, RequestID: "r", Data: math.NaN()})
		},
		func() ([]byte, error) { return EncodeResponse(&Response{Type: RequestBroadcastAck, Ack: func() {}}) },
		func() ([]byte, error) {
			return EncodeRequest(&Request{Type: RequestServerSideEmit, Data: []any{"e", map[int]int{1: 1}}})
		},
		func() ([]byte, error) {
			return EncodeEnvelope(&Envelope{Type: MsgServerSideEmitResponse, Value: math.Inf(1)})
		},
		func() ([]byte, error) { return EncodeRequest(&Request{Type: 42}) },
		func() ([]byte, error) { return EncodeResponse(&Response{Type: -1}) },
		func() ([]byte, error) { return EncodeEnvelope(&Envelope{Type: 99}) },
	}
	for i, f := range bad {
		if enc, err := f(); err == nil {
			t.Errorf("case %d: encoded %q, want an error", i, enc)
		}
	}
	// One socket with unencodable data must not fail a whole fetchSockets
	// answer: its data goes out as null.
	enc, err := EncodeResponse(&Response{Type: RequestRemoteFetch, RequestID: "r", Sockets: []SocketInfo{{ID: "s", Data: make(chan int)}}})
	if err != nil || !bytes.Contains(enc, []byte(`"data":null`)) {
		t.Errorf("fetch answer with unencodable data: %q, %v", enc, err)
	}
}

// TestJSONLikeNode: JSON payloads are written as JSON.stringify would.
func TestJSONLikeNode(t *testing.T) {
	enc, err := EncodeRequest(&Request{UID: "u<&>", Type: RequestServerSideEmit,
		Data: []any{"e", "<b>&amp;</b>", "\u2028\x01\"\\/", 1e21, 1e-7, 0.1, math.Copysign(0, -1), 123456789.0, int64(1) << 60,
			map[string]any{"z": 1, "a": 2, "<k>": 3}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"uid":"u<&>","type":6,"data":["e","<b>&amp;</b>","\u2028\u0001\"\\/",1e+21,1e-7,0.1,0,123456789,1152921504606846976,{"<k>":3,"a":2,"z":1}]}`
	if string(enc) != want {
		t.Errorf("\n got %s\nwant %s", enc, want)
	}
}
