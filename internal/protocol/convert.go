package protocol

import (
	"fmt"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/adapter"
	"github.com/zishang520/socket.io/v2/socket"
)

// PacketFromSocket converts a zishang packet (ASCII-digit type) into its wire
// form. Its data is deep-converted with ToWire and written back into p, so
// that readers drained for the wire are not read again by the local
// delivery that follows.
func PacketFromSocket(p *parser.Packet) (Packet, error) {
	if p.Type < parser.CONNECT || p.Type > parser.BINARY_ACK {
		return Packet{}, fmt.Errorf("sioredis: invalid packet type %q", p.Type)
	}
	t := int(p.Type - '0')
	switch p.Type {
	case parser.BINARY_EVENT, parser.BINARY_ACK:
		// Node always sends EVENT (and ACK); receivers switch to the
		// binary type when they find binary.
		t -= 3
	}
	data, ok := p.Data.([]any)
	if !ok {
		return Packet{}, fmt.Errorf("sioredis: packet data is %T, want []any", p.Data)
	}
	w, err := ToWire(data)
	if err != nil {
		return Packet{}, err
	}
	wd := w.([]any)
	p.Data = wd
	return Packet{Type: t, Data: wd, Nsp: p.Nsp}, nil
}

// SocketPacket converts a wire packet into a zishang packet for namespace nsp.
// BINARY_EVENT and BINARY_ACK (sent by legacy emitters) become EVENT and
// ACK: zishang's encoder looks for attachments only in those, and switches
// to the binary type by itself when it finds binary.
func (p Packet) SocketPacket(nsp string) *parser.Packet {
	t := p.Type
	if t == 5 || t == 6 {
		t -= 3
	}
	return &parser.Packet{Type: parser.PacketType('0' + byte(t)), Nsp: nsp, Data: p.Data}
}

// FlagsFromSocket converts zishang broadcast flags. Compress is written only
// when set to true (Go cannot tell an explicit false from the default).
func FlagsFromSocket(f *socket.BroadcastFlags) Flags {
	if f == nil {
		return Flags{}
	}
	out := Flags{
		Volatile:             f.Volatile,
		Local:                f.Local,
		ExpectSingleResponse: f.ExpectSingleResponse,
	}
	if f.Compress {
		t := true
		out.Compress = &t
	}
	if f.Timeout != nil {
		d := *f.Timeout
		out.Timeout = &d
	}
	return out
}

// SocketFlags converts wire flags into zishang flags.
func (f Flags) SocketFlags() *socket.BroadcastFlags {
	out := &socket.BroadcastFlags{Local: f.Local, ExpectSingleResponse: f.ExpectSingleResponse}
	out.Volatile = f.Volatile
	if f.Compress != nil {
		out.Compress = *f.Compress
	} else {
		out.Compress = true
	}
	if f.Timeout != nil {
		d := *f.Timeout
		out.Timeout = &d
	}
	return out
}

// OptionsFromSocket converts zishang broadcast options (nil sets allowed).
func OptionsFromSocket(o *socket.BroadcastOptions) Options {
	if o == nil {
		return Options{Rooms: []string{}, Except: []string{}}
	}
	return Options{Rooms: roomsOf(o.Rooms), Except: roomsOf(o.Except), Flags: FlagsFromSocket(o.Flags)}
}

func roomsOf(s *types.Set[socket.Room]) []string {
	if s == nil {
		return []string{}
	}
	keys := s.Keys()
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = string(k)
	}
	return out
}

// SocketOptions converts wire options into zishang options with non-nil
// sets (a nil set panics inside socket.io).
func (o Options) SocketOptions() *socket.BroadcastOptions {
	return &socket.BroadcastOptions{
		Rooms:  RoomSet(o.Rooms),
		Except: RoomSet(o.Except),
		Flags:  o.Flags.SocketFlags(),
	}
}

// RoomSet builds a non-nil room set.
func RoomSet(rooms []string) *types.Set[socket.Room] {
	s := types.NewSet[socket.Room]()
	for _, r := range rooms {
		s.Add(socket.Room(r))
	}
	return s
}

// Rooms converts zishang rooms into strings.
func Rooms(rooms []socket.Room) []string {
	out := make([]string, len(rooms))
	for i, r := range rooms {
		out[i] = string(r)
	}
	return out
}

// SocketInfoFromDetails describes a local socket for a fetchSockets answer.
func SocketInfoFromDetails(d socket.SocketDetails) SocketInfo {
	return SocketInfoWithHandshake(d, HandshakeOf(d), nil)
}

// SocketInfoWithHandshake describes a local socket with a handshake
// computed earlier by [HandshakeOf] and, optionally, its encoding by
// [EncodeHandshake].
func SocketInfoWithHandshake(d socket.SocketDetails, hs *socket.Handshake, enc *EncodedHandshake) SocketInfo {
	info := SocketInfo{ID: string(d.Id()), Handshake: hs, EncodedHandshake: enc, Data: d.Data(), Rooms: []string{}}
	if r := d.Rooms(); r != nil {
		info.Rooms = roomsOf(r)
	}
	return info
}

// HandshakeOf returns the handshake a fetchSockets answer carries for a
// local socket: its own, with the Host header that Node includes and
// net/http keeps outside of the header map. The socket's own handshake is
// not modified.
func HandshakeOf(d socket.SocketDetails) *socket.Handshake {
	hs := d.Handshake()
	s, ok := d.(*socket.Socket)
	if !ok || hs == nil || hs.Headers["Host"] != nil {
		return hs
	}
	ctx := s.Request()
	if ctx == nil || ctx.Request() == nil || ctx.Request().Host == "" {
		return hs
	}
	cp := *hs
	cp.Headers = make(map[string][]string, len(hs.Headers)+1)
	for k, v := range hs.Headers {
		cp.Headers[k] = v
	}
	cp.Headers["Host"] = []string{ctx.Request().Host}
	return &cp
}

// Details turns a remote socket description into the SocketDetails that
// socket.io wraps into a RemoteSocket.
func (s SocketInfo) Details() socket.SocketDetails {
	rooms := make([]socket.Room, len(s.Rooms))
	for i, r := range s.Rooms {
		rooms[i] = socket.Room(r)
	}
	hs := s.Handshake
	if hs == nil {
		hs = &socket.Handshake{Headers: map[string][]string{}, Query: map[string][]string{}}
	}
	return adapter.NewRemoteSocket(&adapter.SocketResponse{
		Id:        socket.SocketId(s.ID),
		Handshake: hs,
		Rooms:     rooms,
		Data:      s.Data,
	})
}
