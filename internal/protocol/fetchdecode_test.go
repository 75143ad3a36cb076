package protocol

import (
	"errors"
	"testing"

	"github.com/sioredis/sioredis/internal/codec"
)

// TestFetchAnswerForms: the typed decoder gives the same sockets for the
// JSON and msgpack forms of one answer, classic and sharded.
func TestFetchAnswerForms(t *testing.T) {
	want := benchFetchSockets()
	for _, mp := range []bool{false, true} {
		r := *want
		r.Msgpack = mp
		enc, err := EncodeResponse(&r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeResponse(enc)
		if err != nil {
			t.Fatalf("msgpack=%v: %v", mp, err)
		}
		if d := diff(wireSockets(want.Sockets), got.Sockets); d != "" {
			t.Errorf("classic msgpack=%v: %s", mp, d)
		}
		enc, err = EncodeEnvelope(&Envelope{Type: MsgFetchSocketsResponse, UID: "u", Nsp: "/",
			RequestID: "r", Sockets: want.Sockets, Msgpack: mp})
		if err != nil {
			t.Fatal(err)
		}
		m, err := DecodeEnvelope(enc)
		if err != nil {
			t.Fatalf("cluster msgpack=%v: %v", mp, err)
		}
		if d := diff(wireSockets(want.Sockets), m.Sockets); d != "" {
			t.Errorf("cluster msgpack=%v: %s", mp, d)
		}
	}
}

func TestFetchAnswerEdgeCases(t *testing.T) {
	empty := map[string][]string{}
	cases := []struct {
		name    string
		payload string
		headers map[string][]string
		query   map[string][]string
	}{
		{"repeated key keeps the last value", `{"requestId":"r","sockets":[{"id":"a","handshake":{"headers":{"x-a":"1","x-a":"2"}}}]}`,
			map[string][]string{"X-A": {"2"}}, empty},
		{"repeated key null last", `{"requestId":"r","sockets":[{"id":"a","handshake":{"headers":{"x-a":"1","x-a":null}}}]}`,
			empty, empty},
		{"case variants merge", `{"requestId":"r","sockets":[{"id":"a","handshake":{"headers":{"x-a":"1","X-A":["2","3"]}}}]}`,
			map[string][]string{"X-A": {"1", "2", "3"}}, empty},
		{"empty values dropped", `{"requestId":"r","sockets":[{"id":"a","handshake":{"headers":{"a":[],"b":null},"query":{"q":[]}}}]}`,
			empty, empty},
		{"escapes and invalid UTF-8", "{\"requestId\":\"r\",\"sockets\":[{\"id\":\"a\",\"handshake\":{\"query\":{\"q\":\"\\u00e9\\n\\ud800\",\"v\":\"\xff\"}}}]}",
			empty, map[string][]string{"q": {"é\n\ufffd"}, "v": {"\ufffd"}}},
		{"null handshake", `{"requestId":"r","sockets":[{"id":"a","handshake":null,"extra":[1]}]}`, empty, empty},
		{"query not canonicalized", `{"requestId":"r","sockets":[{"id":"a","handshake":{"query":{"eio":"4","EIO":"3"}}}]}`,
			empty, map[string][]string{"eio": {"4"}, "EIO": {"3"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := DecodeResponse([]byte(c.payload))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Sockets) != 1 {
				t.Fatalf("%d sockets", len(r.Sockets))
			}
			h := r.Sockets[0].Handshake
			if d := diff(c.headers, h.Headers); d != "" {
				t.Errorf("headers: %s", d)
			}
			if d := diff(c.query, h.Query); d != "" {
				t.Errorf("query: %s", d)
			}
		})
	}
}

// TestFetchAnswerSharedValues: values carved from a shared backing array
// must not overwrite each other when appended to.
func TestFetchAnswerSharedValues(t *testing.T) {
	r, err := DecodeResponse([]byte(`{"requestId":"r","sockets":[{"id":"a","handshake":{"headers":{"a":"1","b":"2"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Sockets[0].Handshake.Headers
	h["A"] = append(h["A"], "x")
	if h["B"][0] != "2" {
		t.Fatalf("appending to A changed B: %v", h)
	}
}

// TestClusterFetchDataFirst: a FETCH_SOCKETS_RESPONSE whose type comes after
// its data (neither Node nor Go writes that) still decodes.
func TestClusterFetchDataFirst(t *testing.T) {
	m, err := DecodeEnvelope([]byte(`{"data":{"requestId":"r","sockets":[{"id":"a","rooms":["a",7],"data":{"k":1}}]},"type":8,"uid":"u","nsp":"/"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []SocketInfo{{ID: "a", Rooms: []string{"a", "7"}, Data: map[string]any{"k": 1.0},
		Handshake: &Handshake{Headers: map[string][]string{}, Query: map[string][]string{}}}}
	if d := diff(want, m.Sockets); d != "" {
		t.Fatal(d)
	}
	// Data of another type is not read as a socket list.
	if _, err := DecodeEnvelope([]byte(`{"type":10,"data":{"requestId":"r","packet":1,"sockets":5},"uid":"u","nsp":"/"}`)); err != nil {
		t.Fatal(err)
	}
	_, err = DecodeEnvelope([]byte(`{"data":{"requestId":"r","sockets":5},"type":8,"uid":"u","nsp":"/"}`))
	if !errors.Is(err, codec.ErrMalformed) {
		t.Fatalf("sockets 5: %v", err)
	}
}
