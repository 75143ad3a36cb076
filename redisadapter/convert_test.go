package redisadapter

import (
	"bytes"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/wiretest"
)

var diff = wiretest.Diff

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
			got, err := packetFromSocket(c.in)
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
		p := socketPacket(protocol.Packet{Type: c.in, Data: data, Nsp: "ignored"}, "/admin")
		if p.Type != c.want || p.Nsp != "/admin" || p.Id != nil || p.Attachments != nil {
			t.Errorf("type %d: got %+v, want type %q nsp /admin", c.in, p, c.want)
		}
		if d := diff(data, p.Data); d != "" {
			t.Errorf("type %d data: %s", c.in, d)
		}
	}
	// Round trip through zishang's encoder: a Node packet with binary
	// becomes a proper BINARY_EVENT with one attachment.
	p := socketPacket(protocol.Packet{Type: 5, Data: []any{"ev", []byte{1, 2}}}, "/")
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
		want protocol.Flags
	}{
		{name: "nil", in: nil, want: protocol.Flags{}},
		{name: "zero", in: &socket.BroadcastFlags{}, want: protocol.Flags{}},
		{name: "volatile", in: &socket.BroadcastFlags{WriteOptions: socket.WriteOptions{Volatile: true}},
			want: protocol.Flags{Volatile: true}},
		{name: "compress true", in: func() *socket.BroadcastFlags {
			f := &socket.BroadcastFlags{}
			f.Compress = true
			return f
		}(), want: protocol.Flags{Compress: ptr(true)}},
		{name: "timeout is milliseconds on the wire", in: &socket.BroadcastFlags{Timeout: &five},
			want: protocol.Flags{Timeout: &five}},
		{name: "local is never published", in: &socket.BroadcastFlags{Local: true},
			want: protocol.Flags{Local: true}},
		{name: "expectSingleResponse", in: &socket.BroadcastFlags{ExpectSingleResponse: true},
			want: protocol.Flags{ExpectSingleResponse: true}},
		{name: "go-only keys are dropped", in: &socket.BroadcastFlags{Broadcast: true, Binary: true,
			WriteOptions: socket.WriteOptions{PreEncoded: true}},
			want: protocol.Flags{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := flagsFromSocket(c.in)
			if d := diff(c.want, got); d != "" {
				t.Fatal(d)
			}
			if c.in != nil && c.in.Timeout != nil && got.Timeout == c.in.Timeout {
				t.Error("timeout pointer is shared with the socket flags")
			}
			// What crosses the wire: local never does.
			enc, err := protocol.EncodeBroadcast(&protocol.Broadcast{UID: "u", Packet: protocol.Packet{Type: 2, Data: []any{"e"}, Nsp: "/"},
				Opts: protocol.Options{Flags: got}})
			if err != nil {
				t.Fatal(err)
			}
			back, err := protocol.DecodeBroadcast(enc)
			if err != nil {
				t.Fatal(err)
			}
			onWire := c.want
			onWire.Local = false
			if d := diff(onWire, back.Opts.Flags); d != "" {
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
		in   protocol.Flags
		want *socket.BroadcastFlags
	}{
		{name: "unset compress means compress", in: protocol.Flags{},
			want: withCompress(true, socket.BroadcastFlags{})},
		{name: "explicit false", in: protocol.Flags{Compress: ptr(false), Volatile: true},
			want: withCompress(false, socket.BroadcastFlags{WriteOptions: socket.WriteOptions{Volatile: true}})},
		{name: "timeout and the rest", in: protocol.Flags{Timeout: &ms, Local: true, ExpectSingleResponse: true},
			want: withCompress(true, socket.BroadcastFlags{Timeout: &ms, Local: true, ExpectSingleResponse: true})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := socketFlags(c.in)
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
	payload, err := hex.DecodeString("93a175" + "83a47479706502a46461746191a165a36e7370a12f" +
		"83a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd1388")
	if err != nil {
		t.Fatal(err)
	}
	b, err := protocol.DecodeBroadcast(payload)
	if err != nil {
		t.Fatal(err)
	}
	if got := socketFlags(b.Opts.Flags).Timeout; got == nil || *got != 5*time.Second {
		t.Errorf("timeout 5000 ms decoded as %v", got)
	}
}

func TestOptionsFromSocket(t *testing.T) {
	five := 5 * time.Second
	cases := []struct {
		name string
		in   *socket.BroadcastOptions
		want protocol.Options
	}{
		{name: "nil options", in: nil, want: protocol.Options{Rooms: []string{}, Except: []string{}}},
		{name: "nil sets and flags", in: &socket.BroadcastOptions{}, want: protocol.Options{Rooms: []string{}, Except: []string{}}},
		{name: "rooms, except and flags", in: &socket.BroadcastOptions{
			Rooms:  types.NewSet[socket.Room]("room1"),
			Except: types.NewSet[socket.Room]("sid1"),
			Flags:  &socket.BroadcastFlags{Timeout: &five, WriteOptions: socket.WriteOptions{Volatile: true}},
		}, want: protocol.Options{Rooms: []string{"room1"}, Except: []string{"sid1"}, Flags: protocol.Flags{Volatile: true, Timeout: &five}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := optionsFromSocket(c.in)
			if d := diff(c.want, got); d != "" {
				t.Fatal(d)
			}
			if got.Rooms == nil || got.Except == nil {
				t.Error("nil room list")
			}
		})
	}
	// Several rooms: order is the set's, content must match.
	got := optionsFromSocket(&socket.BroadcastOptions{Rooms: types.NewSet[socket.Room]("a", "b", "c")})
	if len(got.Rooms) != 3 || !roomSet(got.Rooms).Has("a") || !roomSet(got.Rooms).Has("c") {
		t.Errorf("rooms %v", got.Rooms)
	}
}

func TestSocketOptions(t *testing.T) {
	o := socketOptions(protocol.Options{})
	if o.Rooms == nil || o.Except == nil || o.Flags == nil {
		t.Fatalf("nil member in %+v", o)
	}
	if o.Rooms.Len() != 0 || o.Except.Len() != 0 || !o.Flags.Compress {
		t.Errorf("got %+v", o)
	}
	o = socketOptions(protocol.Options{Rooms: []string{"r1", "r2", "r1"}, Except: []string{"x"}, Flags: protocol.Flags{Volatile: true}})
	if o.Rooms.Len() != 2 || !o.Rooms.Has("r2") || !o.Except.Has("x") || !o.Flags.Volatile {
		t.Errorf("got %+v", o)
	}
	if got := roomStrings([]socket.Room{"a", "b"}); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Rooms = %v", got)
	}
	if got := roomStrings(nil); got == nil || len(got) != 0 {
		t.Errorf("Rooms(nil) = %#v", got)
	}
}

func TestSocketInfoDetails(t *testing.T) {
	const sid = "Xk3vQ9mZ2pL7aB1cAAAB"
	info := protocol.SocketInfo{
		ID: sid,
		Handshake: &protocol.Handshake{
			Headers: map[string][]string{"Host": {"localhost:3000"}},
			Query:   map[string][]string{"EIO": {"4"}},
			Auth:    map[string]any{},
		},
		Rooms: []string{sid, "room1"},
		Data:  map[string]any{"user": "bob"},
	}
	d := remoteDetails(info)
	if string(d.Id()) != info.ID || (*protocol.Handshake)(d.Handshake()) != info.Handshake {
		t.Fatalf("details %v %v", d.Id(), d.Handshake())
	}
	if d.Rooms().Len() != 2 || !d.Rooms().Has(sid) || !d.Rooms().Has("room1") {
		t.Errorf("rooms %v", d.Rooms().Keys())
	}
	back := socketInfoFromDetails(d)
	if back.ID != info.ID || back.Handshake != info.Handshake || len(back.Rooms) != 2 {
		t.Errorf("back: %+v", back)
	}
	if dd := diff(info.Data, back.Data); dd != "" {
		t.Errorf("data: %s", dd)
	}
	// A remote socket without handshake still gets non-nil maps.
	d = remoteDetails(protocol.SocketInfo{ID: "x"})
	if d.Handshake() == nil || d.Handshake().Headers == nil || d.Handshake().Query == nil || d.Rooms() == nil {
		t.Errorf("nil members in %+v", d.Handshake())
	}
}

func ptr[T any](v T) *T { return &v }

// engine.io's buffers, the values only the socket.io binding knows.
func TestEngineBuffers(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want any
	}{
		{name: "nested buffers",
			in: map[string]any{"b": types.NewBytesBuffer([]byte{7}), "s": types.NewStringBufferString("str"),
				"r": strings.NewReader("rd"), "list": []any{float32(2), types.NewBytesBufferString("z")}},
			want: map[string]any{"b": []byte{7}, "s": "str", "r": "rd", "list": []any{2.0, []byte("z")}}},
		{name: "nil buffers", in: []any{(*types.BytesBuffer)(nil), (*types.StringBuffer)(nil),
			&types.BytesBuffer{}, &types.StringBuffer{}},
			want: []any{nil, nil, nil, nil}},
		{name: "empty buffer stays binary", in: types.NewBytesBuffer(nil), want: []byte{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := toWire(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(c.want, got); d != "" {
				t.Error(d)
			}
		})
	}
	// An acknowledgement's buffer reaches the requester as binary.
	if got := ackValue([]any{types.NewBytesBuffer([]byte{1})}); diff([]byte{1}, got) != "" {
		t.Errorf("ackValue = %#v", got)
	}
}
