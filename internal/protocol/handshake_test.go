package protocol

import (
	"strings"
	"testing"
	"time"
)

func TestDiffHelper(t *testing.T) {
	same := []struct{ a, b any }{
		{[]string(nil), []string{}},
		{map[string]any(nil), map[string]any{}},
		{&Broadcast{Opts: Options{Rooms: nil}}, &Broadcast{Opts: Options{Rooms: []string{}}}},
		{[]any{1.0, "x", []byte{1}}, []any{1.0, "x", []byte{1}}},
	}
	for _, c := range same {
		if d := diff(c.a, c.b); d != "" {
			t.Errorf("diff(%#v, %#v) = %s, want equal", c.a, c.b, d)
		}
	}
	different := []struct{ a, b any }{
		{1.0, 1},
		{[]any{"a"}, []any{"b"}},
		{[]byte{1}, []byte{2}},
		{&Request{HasRequestID: true}, &Request{}},
		{&Flags{Timeout: ptr(time.Second)}, &Flags{Timeout: ptr(2 * time.Second)}},
		{map[string]any{"a": nil}, map[string]any{"b": nil}},
		{[]any{nil}, []any{map[string]any{}}},
	}
	for _, c := range different {
		if d := diff(c.a, c.b); d == "" {
			t.Errorf("diff(%#v, %#v) found no difference", c.a, c.b)
		}
	}
}

func TestHandshakeConversion(t *testing.T) {
	goHS := &Handshake{
		Headers: map[string][]string{
			"Host":            {"example.com"},
			"Accept-Language": {"en"},
			"Set-Cookie":      {"a=1", "b=2"},
			"X-Empty":         {},
		},
		Time: "t", Address: "1.2.3.4", Xdomain: true, Secure: true, Issued: 42, Url: "/socket.io/?x=<1>",
		Query: map[string][]string{"EIO": {"4"}, "Tags": {"a", "b"}},
		Auth:  map[string]any{"token": "abc", "n": 1},
	}
	enc, err := EncodeResponse(&Response{Type: RequestRemoteFetch, RequestID: "r",
		Sockets: []SocketInfo{{ID: "s1", Handshake: goHS, Rooms: []string{"s1"}, Data: nil}}})
	if err != nil {
		t.Fatal(err)
	}
	// Node's shape: lowercase string-valued headers (arrays for repeated
	// values), query keys untouched, JSON.stringify-like bytes.
	want := `{"requestId":"r","sockets":[{"id":"s1","handshake":{"headers":{"accept-language":"en","host":"example.com","set-cookie":["a=1","b=2"]},` +
		`"time":"t","address":"1.2.3.4","xdomain":true,"secure":true,"issued":42,"url":"/socket.io/?x=<1>",` +
		`"query":{"EIO":"4","Tags":["a","b"]},"auth":{"n":1,"token":"abc"}},"rooms":["s1"],"data":null}]}`
	if string(enc) != want {
		t.Errorf("encoded\n got %s\nwant %s", enc, want)
	}
	// Back to Go's shape: canonical header names, []string values.
	r, err := DecodeResponse(enc)
	if err != nil {
		t.Fatal(err)
	}
	wantHS := &Handshake{
		Headers: map[string][]string{"Host": {"example.com"}, "Accept-Language": {"en"}, "Set-Cookie": {"a=1", "b=2"}},
		Time:    "t", Address: "1.2.3.4", Xdomain: true, Secure: true, Issued: 42, Url: "/socket.io/?x=<1>",
		Query: map[string][]string{"EIO": {"4"}, "Tags": {"a", "b"}},
		Auth:  map[string]any{"token": "abc", "n": 1.0},
	}
	if d := diff(wantHS, r.Sockets[0].Handshake); d != "" {
		t.Error(d)
	}

	// Node's handshake with lowercase names decodes into canonical names.
	node := []byte(`{"requestId":"r","sockets":[{"id":"s","handshake":{"headers":{"x-forwarded-for":"1.1.1.1","user-agent":"node","cookie":["a","b"]},"query":{"t":"1"}}}]}`)
	r, err = DecodeResponse(node)
	if err != nil {
		t.Fatal(err)
	}
	hs := r.Sockets[0].Handshake
	wantHeaders := map[string][]string{"X-Forwarded-For": {"1.1.1.1"}, "User-Agent": {"node"}, "Cookie": {"a", "b"}}
	if d := diff(wantHeaders, hs.Headers); d != "" {
		t.Error(d)
	}
	if d := diff(map[string][]string{"t": {"1"}}, hs.Query); d != "" {
		t.Error(d)
	}
	if r.Sockets[0].Rooms == nil {
		t.Error("rooms of a socket without rooms are nil")
	}

	// Header names that differ only by case are one header for Node.
	enc, err = EncodeEnvelope(&Envelope{Type: MsgFetchSocketsResponse, RequestID: "r", Sockets: []SocketInfo{{ID: "s",
		Handshake: &Handshake{Headers: map[string][]string{"X-A": {"1"}, "x-a": {"2"}, "x-b": {"3"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(enc), `"headers":{"x-a":["1","2"],"x-b":"3"}`) {
		t.Errorf("merged headers: %s", enc)
	}
	m, err := DecodeEnvelope(enc)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(map[string][]string{"X-A": {"1", "2"}, "X-B": {"3"}}, m.Sockets[0].Handshake.Headers); d != "" {
		t.Error(d)
	}

	// A nil handshake is written as an empty Node handshake, auth {}.
	enc, err = EncodeResponse(&Response{Type: RequestRemoteFetch, RequestID: "r", Sockets: []SocketInfo{{ID: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"requestId":"r","sockets":[{"id":"s","handshake":{"headers":{},"time":"","address":"","xdomain":false,"secure":false,"issued":0,"url":"","query":{},"auth":{}},"rooms":[],"data":null}]}`
	if string(enc) != want {
		t.Errorf("encoded\n got %s\nwant %s", enc, want)
	}
}
