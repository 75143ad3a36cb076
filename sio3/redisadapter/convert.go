package redisadapter

import (
	"fmt"
	"reflect"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sioredis/sioredis/internal/codec"
	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// Conversion between socket.io v3.0.6's types and the wire forms of
// internal/protocol and internal/codec, which know no Socket.IO implementation. What differs
// from the v2 binding: packet types are plain ints, Compress is a *bool (an
// explicit false survives), handshake headers and query are map[string]any
// holding []string (or string) values and auth is a map[string]any, and the
// remote sockets of a fetchSockets answer are this package's own values.

// toWire is codec.ToWire with socket.io's buffers: *StringBuffer becomes
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

// packetFromSocket converts a socket.io v3 packet into its wire form. Its
// data is deep-converted with toWire and written back into p, so that
// readers drained for the wire are not read again by the local delivery
// that follows.
func packetFromSocket(p *parser.Packet) (protocol.Packet, error) {
	if !p.Type.Valid() {
		return protocol.Packet{}, fmt.Errorf("sioredis: invalid packet type %d", p.Type)
	}
	t := int(p.Type)
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

// socketPacket converts a wire packet into a socket.io packet for namespace
// nsp. BINARY_EVENT and BINARY_ACK (sent by legacy emitters) become EVENT
// and ACK: the encoder looks for attachments only in those, and switches to
// the binary type by itself when it finds binary.
func socketPacket(p protocol.Packet, nsp string) *parser.Packet {
	t := p.Type
	if t == 5 || t == 6 {
		t -= 3
	}
	return &parser.Packet{Type: parser.PacketType(t), Nsp: nsp, Data: p.Data}
}

// flagsFromSocket converts socket.io broadcast flags. Compress is written
// when set, true or false (Node's default is true).
func flagsFromSocket(f *socket.BroadcastFlags) protocol.Flags {
	if f == nil {
		return protocol.Flags{}
	}
	out := protocol.Flags{
		Volatile:             f.Volatile,
		Local:                f.Local,
		ExpectSingleResponse: f.ExpectSingleResponse,
	}
	if f.Compress != nil {
		c := *f.Compress
		out.Compress = &c
	}
	if f.Timeout != nil {
		d := *f.Timeout
		out.Timeout = &d
	}
	return out
}

// socketFlags converts wire flags into socket.io flags.
func socketFlags(f protocol.Flags) *socket.BroadcastFlags {
	out := &socket.BroadcastFlags{Local: f.Local, ExpectSingleResponse: f.ExpectSingleResponse}
	out.Volatile = f.Volatile
	if f.Compress != nil {
		c := *f.Compress
		out.Compress = &c
	}
	if f.Timeout != nil {
		d := *f.Timeout
		out.Timeout = &d
	}
	return out
}

// optionsFromSocket converts socket.io broadcast options (nil sets allowed).
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

// socketOptions converts wire options into socket.io options with non-nil
// sets.
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

// roomStrings converts socket.io rooms into strings.
func roomStrings(rooms []socket.Room) []string {
	out := make([]string, len(rooms))
	for i, r := range rooms {
		out[i] = string(r)
	}
	return out
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
// local socket, in wire form, with the Host header that Node includes and
// net/http keeps outside of the header map.
func handshakeOf(d socket.SocketDetails) *protocol.Handshake {
	hs := wireHandshake(d.Handshake())
	if hs == nil {
		return nil
	}
	if s, ok := d.(*socket.Socket); ok && hs.Headers["Host"] == nil {
		if ctx := s.Request(); ctx != nil && ctx.Request() != nil && ctx.Request().Host != "" {
			hs.Headers["Host"] = []string{ctx.Request().Host}
		}
	}
	return hs
}

// wireHandshake converts a socket.io v3 handshake into a fresh wire one
// (maps of its own).
func wireHandshake(src *socket.Handshake) *protocol.Handshake {
	if src == nil {
		return nil
	}
	hs := &protocol.Handshake{
		Headers: stringLists(src.Headers),
		Time:    src.Time,
		Address: src.Address,
		Xdomain: src.Xdomain,
		Secure:  src.Secure,
		Issued:  src.Issued,
		Url:     src.Url,
		Query:   stringLists(src.Query),
	}
	if src.Auth != nil {
		// The auth of a CONNECT packet comes from JSON and holds no
		// buffer; a value that cannot be converted is sent as null.
		if w, err := toWire(src.Auth); err == nil {
			hs.Auth = w
		}
	}
	return hs
}

// socketHandshake converts a wire handshake into a socket.io v3 one, with
// empty maps for a missing handshake (socket.io reads them unchecked).
func socketHandshake(h *protocol.Handshake) *socket.Handshake {
	if h == nil {
		return &socket.Handshake{Headers: types.IncomingHttpHeaders{}, Query: types.ParsedUrlQuery{}}
	}
	hs := &socket.Handshake{
		Headers: anyLists(h.Headers),
		Time:    h.Time,
		Address: h.Address,
		Xdomain: h.Xdomain,
		Secure:  h.Secure,
		Issued:  h.Issued,
		Url:     h.Url,
		Query:   anyLists(h.Query),
	}
	if auth, ok := h.Auth.(map[string]any); ok {
		hs.Auth = auth
	}
	return hs
}

// stringLists converts socket.io v3's header and query maps, whose values
// are a string or a []string, into the protocol's lists.
func stringLists[M ~map[string]any](m M) map[string][]string {
	out := make(map[string][]string, len(m)+1)
	for k, v := range m {
		switch x := v.(type) {
		case []string:
			out[k] = x
		case string:
			out[k] = []string{x}
		case []any:
			l := make([]string, 0, len(x))
			for _, e := range x {
				if s, ok := e.(string); ok {
					l = append(l, s)
				}
			}
			out[k] = l
		}
	}
	return out
}

// anyLists is the inverse of stringLists.
func anyLists(m map[string][]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// remoteSocket is a socket of another server, as a fetchSockets answer
// described it. socket.io v3 wraps it into a RemoteSocket (whose operations
// go through this adapter) and copies the rooms into a set of its own, so
// the set Rooms returns is made when asked for rather than kept (a
// fetchSockets answer holds hundreds of these).
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
	return types.NewSet(rooms...)
}

func (r *remoteSocket) Data() any { return r.data }

// remoteDetails turns a remote socket description into the SocketDetails
// that socket.io wraps into a RemoteSocket.
func remoteDetails(s protocol.SocketInfo) socket.SocketDetails {
	return &remoteSocket{id: socket.SocketId(s.ID), handshake: socketHandshake(s.Handshake), rooms: s.Rooms, data: s.Data}
}
