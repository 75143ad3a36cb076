package redisadapter

import (
	"fmt"
	"reflect"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/codec"
	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// Conversion between socket.io v2.5.0's types and the wire forms of
// internal/protocol and internal/codec, which know no Socket.IO implementation.

// The protocol's Handshake mirrors socket.io v2's field for field, so that a
// handshake converts without a copy; this fails to compile if they diverge.
var _ = (*protocol.Handshake)((*socket.Handshake)(nil))

// toWire is codec.ToWire with engine.io's buffers: *StringBuffer becomes
// a string, other buffers binary.
func toWire(v any) (any, error) { return codec.ToWireWith(v, engineBuffer) }

func engineBuffer(v any) (any, bool, error) {
	switch x := v.(type) {
	case *types.StringBuffer:
		if x == nil || x.Buffer == nil {
			return nil, true, nil
		}
		return x.String(), true, nil
	case *types.BytesBuffer:
		if x == nil || x.Buffer == nil {
			return nil, true, nil
		}
		return bufferBytes(x), true, nil
	case types.BufferInterface:
		if isNil(x) {
			return nil, true, nil
		}
		return bufferBytes(x), true, nil
	}
	return nil, false, nil
}

// bufferBytes copies the unread bytes of a buffer without draining it. An
// empty buffer gives an empty (not nil) slice, which stays binary on the wire.
func bufferBytes(b types.BufferInterface) []byte {
	src := b.Bytes()
	out := make([]byte, len(src))
	copy(out, src)
	return out
}

// isNil reports a nil pointer inside an interface.
func isNil(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// ackValue is core.AckValue with this binding's buffers.
func ackValue(args []any) any { return core.AckValue(args, toWire) }

// packetFromSocket converts a zishang packet (ASCII-digit type) into its wire
// form. Its data is deep-converted with toWire and written back into p, so
// that readers drained for the wire are not read again by the local
// delivery that follows.
func packetFromSocket(p *parser.Packet) (protocol.Packet, error) {
	if p.Type < parser.CONNECT || p.Type > parser.BINARY_ACK {
		return protocol.Packet{}, fmt.Errorf("sioredis: invalid packet type %q", p.Type)
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
		return protocol.Packet{}, fmt.Errorf("sioredis: packet data is %T, want []any", p.Data)
	}
	w, err := toWire(data)
	if err != nil {
		return protocol.Packet{}, err
	}
	wd := w.([]any)
	p.Data = wd
	return protocol.Packet{Type: t, Data: wd, Nsp: p.Nsp}, nil
}

// socketPacket converts a wire packet into a zishang packet for namespace
// nsp. BINARY_EVENT and BINARY_ACK (sent by legacy emitters) become EVENT
// and ACK: zishang's encoder looks for attachments only in those, and
// switches to the binary type by itself when it finds binary.
func socketPacket(p protocol.Packet, nsp string) *parser.Packet {
	t := p.Type
	if t == 5 || t == 6 {
		t -= 3
	}
	return &parser.Packet{Type: parser.PacketType('0' + byte(t)), Nsp: nsp, Data: p.Data}
}

// flagsFromSocket converts zishang broadcast flags. Compress is written only
// when set to true (Go cannot tell an explicit false from the default).
func flagsFromSocket(f *socket.BroadcastFlags) protocol.Flags {
	if f == nil {
		return protocol.Flags{}
	}
	out := protocol.Flags{
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

// socketFlags converts wire flags into zishang flags.
func socketFlags(f protocol.Flags) *socket.BroadcastFlags {
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

// optionsFromSocket converts zishang broadcast options (nil sets allowed).
func optionsFromSocket(o *socket.BroadcastOptions) protocol.Options {
	if o == nil {
		return protocol.Options{Rooms: []string{}, Except: []string{}}
	}
	return protocol.Options{Rooms: roomsOf(o.Rooms), Except: roomsOf(o.Except), Flags: flagsFromSocket(o.Flags)}
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

// socketOptions converts wire options into zishang options with non-nil
// sets (a nil set panics inside socket.io).
func socketOptions(o protocol.Options) *socket.BroadcastOptions {
	return &socket.BroadcastOptions{
		Rooms:  roomSet(o.Rooms),
		Except: roomSet(o.Except),
		Flags:  socketFlags(o.Flags),
	}
}

// roomSet builds a non-nil room set.
func roomSet(rooms []string) *types.Set[socket.Room] {
	s := types.NewSet[socket.Room]()
	for _, r := range rooms {
		s.Add(socket.Room(r))
	}
	return s
}

// roomStrings converts zishang rooms into strings.
func roomStrings(rooms []socket.Room) []string {
	out := make([]string, len(rooms))
	for i, r := range rooms {
		out[i] = string(r)
	}
	return out
}

// socketInfoFromDetails describes a local socket for a fetchSockets answer.
func socketInfoFromDetails(d socket.SocketDetails) protocol.SocketInfo {
	return socketInfoWithHandshake(d, handshakeOf(d), nil)
}

// socketInfoWithHandshake describes a local socket with a handshake
// computed earlier by [handshakeOf] and, optionally, its encoding by
// protocol.EncodeHandshake. Data that cannot be converted is sent as null
// rather than failing the whole answer, much as JSON.stringify drops what
// it cannot write.
func socketInfoWithHandshake(d socket.SocketDetails, hs *protocol.Handshake, enc *protocol.EncodedHandshake) protocol.SocketInfo {
	data, err := toWire(d.Data())
	if err != nil {
		data = nil
	}
	info := protocol.SocketInfo{ID: string(d.Id()), Handshake: hs, EncodedHandshake: enc, Data: data, Rooms: []string{}}
	if r := d.Rooms(); r != nil {
		info.Rooms = roomsOf(r)
	}
	return info
}

// handshakeOf returns the handshake a fetchSockets answer carries for a
// local socket: its own, with the Host header that Node includes and
// net/http keeps outside of the header map. The socket's own handshake is
// not modified. (Its auth comes from the JSON of the CONNECT packet: it
// holds no engine.io buffer, and the protocol converts it.)
func handshakeOf(d socket.SocketDetails) *protocol.Handshake {
	hs := (*protocol.Handshake)(d.Handshake())
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

// remoteDetails turns a remote socket description into the SocketDetails
// that socket.io wraps into a RemoteSocket.
func remoteDetails(s protocol.SocketInfo) socket.SocketDetails {
	hs := (*socket.Handshake)(s.Handshake)
	if hs == nil {
		hs = &socket.Handshake{Headers: map[string][]string{}, Query: map[string][]string{}}
	}
	return &remoteSocket{id: socket.SocketId(s.ID), handshake: hs, rooms: s.Rooms, data: s.Data}
}

// remoteSocket is a remote socket's description as socket.io's
// SocketDetails. socket.io copies the rooms into a set of its own when it
// wraps the details into a RemoteSocket, so the set Rooms returns is made
// when asked for rather than kept (adapter.NewRemoteSocket would keep one,
// with two more objects per socket: a fetchSockets answer holds hundreds).
type remoteSocket struct {
	id        socket.SocketId
	handshake *socket.Handshake
	rooms     []string
	data      any
}

func (r *remoteSocket) Id() socket.SocketId { return r.id }

func (r *remoteSocket) Handshake() *socket.Handshake { return r.handshake }

// Rooms returns a new set of the socket's rooms on each call.
func (r *remoteSocket) Rooms() *types.Set[socket.Room] {
	var buf [8]socket.Room // on the stack for the usual few rooms
	rooms := buf[:0]
	for _, room := range r.rooms {
		rooms = append(rooms, socket.Room(room))
	}
	return types.NewSet(rooms...) // sized once
}

func (r *remoteSocket) Data() any { return r.data }
