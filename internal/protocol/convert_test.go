package protocol

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/socket"
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

type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestPacketFromSocket(t *testing.T) {
	tracker := &closeTracker{Reader: bytes.NewReader([]byte{9, 9})}
	cases := []struct {
		name     string
		in       *parser.Packet
		wantType int
		wantData []any
		wantErr  bool
	}{
		{name: "event", in: &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"ev", 1, "x"}},
			wantType: 2, wantData: []any{"ev", 1, "x"}},
		{name: "binary event is sent as event",
			in:       &parser.Packet{Type: parser.BINARY_EVENT, Nsp: "/", Data: []any{"ev", []byte{1}}},
			wantType: 2, wantData: []any{"ev", []byte{1}}},
		{name: "ack", in: &parser.Packet{Type: parser.ACK, Nsp: "/", Data: []any{"ok"}},
			wantType: 3, wantData: []any{"ok"}},
		{name: "binary ack is sent as ack",
			in:       &parser.Packet{Type: parser.BINARY_ACK, Nsp: "/", Data: []any{[]byte{1}}},
			wantType: 3, wantData: []any{[]byte{1}}},
		{name: "connect", in: &parser.Packet{Type: parser.CONNECT, Nsp: "/", Data: []any{}},
			wantType: 0, wantData: []any{}},
		{name: "readers become bytes and strings",
			in: &parser.Packet{Type: parser.EVENT, Nsp: "/admin", Data: []any{"ev",
				types.NewBytesBuffer([]byte{1, 2, 3}),
				types.NewStringBufferString("text"),
				strings.NewReader("reader"),
				bytes.NewReader([]byte{4, 5}),
				tracker,
				map[string]any{"nested": types.NewBytesBufferString("ab"), "keep": 1},
				[]any{strings.NewReader("in array")},
			}},
			wantType: 2, wantData: []any{"ev", []byte{1, 2, 3}, "text", "reader", []byte{4, 5}, []byte{9, 9},
				map[string]any{"nested": []byte("ab"), "keep": 1}, []any{"in array"}}},
		{name: "struct argument goes through its json tags",
			in: &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"ev", struct {
				Name string `json:"name"`
				Age  int    `json:"age,omitempty"`
			}{Name: "bob"}}},
			wantType: 2, wantData: []any{"ev", map[string]any{"name": "bob"}}},
		{name: "invalid type", in: &parser.Packet{Type: 'x', Data: []any{"ev"}}, wantErr: true},
		{name: "data is not an array", in: &parser.Packet{Type: parser.EVENT, Data: "ev"}, wantErr: true},
		{name: "unsupported argument", in: &parser.Packet{Type: parser.EVENT, Data: []any{"ev", func() {}}}, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := PacketFromSocket(c.in)
			if c.wantErr {
				if err == nil {
					t.Fatalf("got %#v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != c.wantType || got.Nsp != c.in.Nsp {
				t.Errorf("type %d nsp %q, want %d %q", got.Type, got.Nsp, c.wantType, c.in.Nsp)
			}
			if d := diff(c.wantData, got.Data); d != "" {
				t.Errorf("data: %s", d)
			}
			// The converted data is written back, so that local delivery
			// does not read drained readers.
			if d := diff(c.wantData, c.in.Data); d != "" {
				t.Errorf("data written back: %s", d)
			}
		})
	}
	if !tracker.closed {
		t.Error("an io.ReadCloser argument was not closed")
	}
}

func TestSocketPacket(t *testing.T) {
	cases := []struct {
		in   int
		want parser.PacketType
	}{
		{0, parser.CONNECT}, {1, parser.DISCONNECT}, {2, parser.EVENT}, {3, parser.ACK},
		{4, parser.CONNECT_ERROR},
		// Legacy emitters (3.1.2/3.2.0) send 5 for binary; zishang's encoder
		// only finds attachments in EVENT/ACK packets, so binary types are
		// handed over as their plain counterparts.
		{5, parser.EVENT}, {6, parser.ACK},
	}
	for _, c := range cases {
		data := []any{"ev", []byte{1}}
		p := Packet{Type: c.in, Data: data, Nsp: "ignored"}.SocketPacket("/admin")
		if p.Type != c.want || p.Nsp != "/admin" || p.Id != nil || p.Attachments != nil {
			t.Errorf("type %d: got %+v, want type %q nsp /admin", c.in, p, c.want)
		}
		if d := diff(data, p.Data); d != "" {
			t.Errorf("type %d data: %s", c.in, d)
		}
	}
	// Round trip through zishang's encoder: a Node packet with binary
	// becomes a proper BINARY_EVENT with one attachment.
	p := Packet{Type: 5, Data: []any{"ev", []byte{1, 2}}}.SocketPacket("/")
	frames := parser.NewEncoder().Encode(p)
	if len(frames) != 2 || !strings.HasPrefix(frames[0].String(), `51-["ev",{"_placeholder":true,"num":0}]`) {
		t.Errorf("encoded frames: %v", frames)
	}
}

func TestFlagsFromSocket(t *testing.T) {
	five := 5 * time.Second
	cases := []struct {
		name string
		in   *socket.BroadcastFlags
		want Flags
		wire map[string]any // flags as written by the encoder
	}{
		{name: "nil", in: nil, want: Flags{}, wire: map[string]any{}},
		{name: "zero", in: &socket.BroadcastFlags{}, want: Flags{}, wire: map[string]any{}},
		{name: "volatile", in: &socket.BroadcastFlags{WriteOptions: socket.WriteOptions{Volatile: true}},
			want: Flags{Volatile: true}, wire: map[string]any{"volatile": true}},
		{name: "compress true", in: func() *socket.BroadcastFlags {
			f := &socket.BroadcastFlags{}
			f.Compress = true
			return f
		}(), want: Flags{Compress: ptr(true)}, wire: map[string]any{"compress": true}},
		{name: "timeout is milliseconds on the wire", in: &socket.BroadcastFlags{Timeout: &five},
			want: Flags{Timeout: &five}, wire: map[string]any{"timeout": 5000.0}},
		{name: "local is never published", in: &socket.BroadcastFlags{Local: true},
			want: Flags{Local: true}, wire: map[string]any{}},
		{name: "expectSingleResponse", in: &socket.BroadcastFlags{ExpectSingleResponse: true},
			want: Flags{ExpectSingleResponse: true}, wire: map[string]any{"expectSingleResponse": true}},
		{name: "go-only keys are dropped", in: &socket.BroadcastFlags{Broadcast: true, Binary: true,
			WriteOptions: socket.WriteOptions{PreEncoded: true}},
			want: Flags{}, wire: map[string]any{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := FlagsFromSocket(c.in)
			if d := diff(c.want, got); d != "" {
				t.Fatal(d)
			}
			if c.in != nil && c.in.Timeout != nil && got.Timeout == c.in.Timeout {
				t.Error("timeout pointer is shared with the socket flags")
			}
			enc, err := EncodeBroadcast(&Broadcast{UID: "u", Packet: Packet{Type: 2, Data: []any{"e"}, Nsp: "/"},
				Opts: Options{Flags: got}})
			if err != nil {
				t.Fatal(err)
			}
			tree := genericPayload(t, enc).([]any)
			if d := diff(c.wire, tree[2].(map[string]any)["flags"]); d != "" {
				t.Errorf("wire flags: %s", d)
			}
		})
	}
}

func TestFlagsSocketFlags(t *testing.T) {
	ms := 1500 * time.Millisecond
	withCompress := func(on bool, f socket.BroadcastFlags) *socket.BroadcastFlags {
		f.Compress = on
		return &f
	}
	cases := []struct {
		name string
		in   Flags
		want *socket.BroadcastFlags
	}{
		{name: "unset compress means compress", in: Flags{},
			want: withCompress(true, socket.BroadcastFlags{})},
		{name: "explicit false", in: Flags{Compress: ptr(false), Volatile: true},
			want: withCompress(false, socket.BroadcastFlags{WriteOptions: socket.WriteOptions{Volatile: true}})},
		{name: "timeout and the rest", in: Flags{Timeout: &ms, Local: true, ExpectSingleResponse: true},
			want: withCompress(true, socket.BroadcastFlags{Timeout: &ms, Local: true, ExpectSingleResponse: true})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.in.SocketFlags()
			if d := diff(c.want, got); d != "" {
				t.Fatal(d)
			}
			if c.in.Timeout != nil && got.Timeout == c.in.Timeout {
				t.Error("timeout pointer is shared")
			}
		})
	}
	// Wire milliseconds decode into a Go duration:
	// ["u", {type:2, data:["e"], nsp:"/"}, {rooms:[], except:[], flags:{timeout:5000}}].
	payload := mustHex(t, "93a175"+"83a47479706502a46461746191a165a36e7370a12f"+
		"83a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd1388")
	b, err := DecodeBroadcast(payload)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Opts.Flags.SocketFlags().Timeout; got == nil || *got != 5*time.Second {
		t.Errorf("timeout 5000 ms decoded as %v", got)
	}
}

func TestOptionsFromSocket(t *testing.T) {
	five := 5 * time.Second
	cases := []struct {
		name string
		in   *socket.BroadcastOptions
		want Options
	}{
		{name: "nil options", in: nil, want: Options{Rooms: []string{}, Except: []string{}}},
		{name: "nil sets and flags", in: &socket.BroadcastOptions{}, want: Options{Rooms: []string{}, Except: []string{}}},
		{name: "rooms, except and flags", in: &socket.BroadcastOptions{
			Rooms:  types.NewSet[socket.Room]("room1"),
			Except: types.NewSet[socket.Room]("sid1"),
			Flags:  &socket.BroadcastFlags{Timeout: &five, WriteOptions: socket.WriteOptions{Volatile: true}},
		}, want: Options{Rooms: []string{"room1"}, Except: []string{"sid1"}, Flags: Flags{Volatile: true, Timeout: &five}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := OptionsFromSocket(c.in)
			if d := diff(c.want, got); d != "" {
				t.Fatal(d)
			}
			if got.Rooms == nil || got.Except == nil {
				t.Error("nil room list")
			}
		})
	}
	// Several rooms: order is the set's, content must match.
	got := OptionsFromSocket(&socket.BroadcastOptions{Rooms: types.NewSet[socket.Room]("a", "b", "c")})
	if len(got.Rooms) != 3 || !RoomSet(got.Rooms).Has("a") || !RoomSet(got.Rooms).Has("c") {
		t.Errorf("rooms %v", got.Rooms)
	}
}

func TestSocketOptions(t *testing.T) {
	o := Options{}.SocketOptions()
	if o.Rooms == nil || o.Except == nil || o.Flags == nil {
		t.Fatalf("nil member in %+v", o)
	}
	if o.Rooms.Len() != 0 || o.Except.Len() != 0 || !o.Flags.Compress {
		t.Errorf("got %+v", o)
	}
	o = Options{Rooms: []string{"r1", "r2", "r1"}, Except: []string{"x"}, Flags: Flags{Volatile: true}}.SocketOptions()
	if o.Rooms.Len() != 2 || !o.Rooms.Has("r2") || !o.Except.Has("x") || !o.Flags.Volatile {
		t.Errorf("got %+v", o)
	}
	if got := Rooms([]socket.Room{"a", "b"}); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Rooms = %v", got)
	}
	if got := Rooms(nil); got == nil || len(got) != 0 {
		t.Errorf("Rooms(nil) = %#v", got)
	}
}

func TestSocketInfoDetails(t *testing.T) {
	info := fixtureSocket()
	d := info.Details()
	if string(d.Id()) != info.ID || d.Handshake() != info.Handshake {
		t.Fatalf("details %v %v", d.Id(), d.Handshake())
	}
	if d.Rooms().Len() != 2 || !d.Rooms().Has(fixtureSID) || !d.Rooms().Has("room1") {
		t.Errorf("rooms %v", d.Rooms().Keys())
	}
	back := SocketInfoFromDetails(d)
	if back.ID != info.ID || back.Handshake != info.Handshake || len(back.Rooms) != 2 {
		t.Errorf("back: %+v", back)
	}
	if dd := diff(info.Data, back.Data); dd != "" {
		t.Errorf("data: %s", dd)
	}
	// A remote socket without handshake still gets non-nil maps.
	d = SocketInfo{ID: "x"}.Details()
	if d.Handshake() == nil || d.Handshake().Headers == nil || d.Handshake().Query == nil || d.Rooms() == nil {
		t.Errorf("nil members in %+v", d.Handshake())
	}
}

func TestHandshakeConversion(t *testing.T) {
	goHS := &socket.Handshake{
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
	wantHS := &socket.Handshake{
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
	enc, err = EncodeClusterMessage(&ClusterMessage{Type: MsgFetchSocketsResponse, RequestID: "r", Sockets: []SocketInfo{{ID: "s",
		Handshake: &socket.Handshake{Headers: map[string][]string{"X-A": {"1"}, "x-a": {"2"}, "x-b": {"3"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(enc), `"headers":{"x-a":["1","2"],"x-b":"3"}`) {
		t.Errorf("merged headers: %s", enc)
	}
	m, err := DecodeClusterMessage(enc)
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

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hexDecode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
