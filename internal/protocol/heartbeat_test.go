package protocol

import (
	"reflect"
	"testing"
)

// TestHeartbeatRoundTrip: a sioredis heartbeat carries what the server
// announces; Node's dataless heartbeats and ADAPTER_CLOSE decode without
// it; the payload is recognized from its first bytes.
func TestHeartbeatRoundTrip(t *testing.T) {
	m := &Envelope{Type: MsgInitialHeartbeat, UID: "u", Nsp: "/", Member: &MemberInfo{
		Host: "h1", Version: "0.1.0", Capabilities: []string{"fetchSockets"}, HasCapabilities: true, StartedAt: 1700000000000}}
	enc, err := EncodeEnvelope(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":1,"data":{"host":"h1","version":"0.1.0","capabilities":["fetchSockets"],"startedAt":1700000000000},"uid":"u","nsp":"/"}`
	if string(enc) != want {
		t.Fatalf("encoded %s, want %s", enc, want)
	}
	back, err := DecodeEnvelope(enc)
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("decoded %+v %+v, %v", back, back.Member, err)
	}
	if !IsHeartbeatPayload(string(enc)) {
		t.Fatal("not recognized as a heartbeat")
	}
	for _, p := range []string{`{"type":2,"uid":"u","nsp":"/"}`, `{"type":13,"uid":"u","nsp":"/"}`} {
		m, err := DecodeEnvelope([]byte(p))
		if err != nil || m.Member != nil || !IsHeartbeatPayload(p) {
			t.Fatalf("%s: %+v %v", p, m, err)
		}
	}
	if IsHeartbeatPayload(`{"type":3,"data":{}}`) || IsHeartbeatPayload(`{"type":12,"data":{}}`) {
		t.Fatal("a broadcast taken for a heartbeat")
	}
	if _, err := DecodeEnvelope([]byte(`{"type":2,"data":{"host":1},"uid":"u","nsp":"/"}`)); err == nil {
		t.Fatal("a malformed heartbeat decoded")
	}
}

// TestResponseUID: Go writes the responder's uid last (Node ignores it);
// Node's responses have none.
func TestResponseUID(t *testing.T) {
	enc, err := EncodeResponse(&Response{Type: RequestAllRooms, RequestID: "r", Rooms: []string{"a"}, UID: "me"})
	if err != nil || string(enc) != `{"requestId":"r","rooms":["a"],"uid":"me"}` {
		t.Fatalf("%s %v", enc, err)
	}
	r, err := DecodeResponse(enc)
	if err != nil || r.UID != "me" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = DecodeResponse([]byte(`{"requestId":"r","rooms":[]}`))
	if err != nil || r.UID != "" {
		t.Fatalf("%+v %v", r, err)
	}
}
