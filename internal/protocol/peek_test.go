package protocol

import (
	"testing"

	"github.com/sioredis/sioredis/internal/wiretest"
)

func TestPeekRequestID(t *testing.T) {
	for _, r := range []*Response{
		{Type: RequestRemoteFetch, RequestID: "req001", Sockets: []SocketInfo{{ID: "s", Rooms: []string{"a"}, Data: map[string]any{"k": []byte{1}}}}},
		{Type: RequestRemoteFetch, RequestID: "req002", Sockets: []SocketInfo{{ID: "s", Rooms: []string{"a"}}}},
		{Type: RequestAllRooms, RequestID: "req003", Rooms: []string{"x"}},
		{Type: RequestServerSideEmit, RequestID: "req004", Data: "pong"},
		{Type: RequestBroadcastClientCount, RequestID: "req005", ClientCount: 3},
		{Type: RequestBroadcastAck, RequestID: "req006", Ack: map[string]any{"ok": true}},
	} {
		payload, err := EncodeResponse(r)
		if err != nil {
			t.Fatal(err)
		}
		id, ok := PeekRequestID(payload)
		if !ok || id != r.RequestID {
			t.Errorf("peek %q = %q, %v; want %q", payload, id, ok, r.RequestID)
		}
	}
	// The recorded Node responses.
	for _, p := range []string{
		`{"requestId":"req001","sockets":[]}`,
		`{"type":6,"requestId":"req002","data":"pong-1"}`,
		`{"type":8,"requestId":"req003","clientCount":1}`,
	} {
		if _, ok := PeekRequestID([]byte(p)); !ok {
			t.Errorf("cannot peek %s", p)
		}
	}
	// Shapes it must not guess about.
	for _, p := range [][]byte{nil, []byte(`{"sockets":[],"requestId":"x"}`), []byte(`{"requestId":1}`), []byte(`[1]`),
		{0x81, 0xa9}, {0xdf, 0, 0, 0, 1}, []byte(`{"a":1,"b":2,"c":3,"requestId":"x"}`)} {
		if id, ok := PeekRequestID(p); ok {
			t.Errorf("peek %q = %q, want no answer", p, id)
		}
	}
}

func FuzzPeekRequestID(f *testing.F) {
	f.Add([]byte(`{"type":6,"requestId":"req002","data":"pong-1"}`))
	f.Add(wiretest.Hex("83a47479706509a9726571756573744964a6726571303033a67061636b6574a7616e7377657221"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, ok := PeekRequestID(b)
		if !ok {
			return
		}
		// When the peek answers, a successful full decode must agree.
		if r, err := DecodeResponse(b); err == nil && r.RequestID != id {
			t.Fatalf("peek %q, decode %q", id, r.RequestID)
		}
	})
}

func TestMsgpackFetchAnswer(t *testing.T) {
	r := &Response{Type: RequestRemoteFetch, RequestID: "req9", Msgpack: true,
		Sockets: []SocketInfo{{ID: "s1", Rooms: []string{"s1", "a"}, Data: map[string]any{"user": "bob"}}}}
	b, err := EncodeResponse(r)
	if err != nil || b[0] == '{' {
		t.Fatalf("encoded %q, %v; want msgpack", b, err)
	}
	if id, ok := PeekRequestID(b); !ok || id != "req9" {
		t.Fatalf("peek %q %v", id, ok)
	}
	d, err := DecodeResponse(b)
	if err != nil || len(d.Sockets) != 1 || d.Sockets[0].ID != "s1" || d.Sockets[0].Data.(map[string]any)["user"] != "bob" {
		t.Fatalf("decoded %+v, %v", d, err)
	}
}
