package protocol

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sioredis/sioredis/internal/codec"
)

// Handshake is the handshake of a socket as fetchSockets answers carry it,
// in Go's shape: canonical header names and []string values, as net/http
// and socket.io v2 keep them. The codec converts from and to Node's
// string-valued maps. Its fields are those of socket.io v2's
// socket.Handshake, in the same order, so that the v2 binding converts a
// pointer without copying.
type Handshake struct {
	// Headers are the HTTP headers of the handshake request.
	Headers map[string][]string
	// Time is the date of creation, as a string.
	Time string
	// Address is the client's IP address.
	Address string
	// Xdomain tells whether the connection is cross-domain.
	Xdomain bool
	// Secure tells whether the connection is secure.
	Secure bool
	// Issued is the date of creation, in milliseconds since the epoch.
	Issued int64
	// Url is the request URL.
	Url string
	// Query is the query string.
	Query map[string][]string
	// Auth is the client's auth payload, in wire form.
	Auth any
}

// SocketInfo describes a socket of another server, as carried by fetchSockets
// responses.
type SocketInfo struct {
	// ID is the socket id.
	ID string
	// Handshake uses Go's shape (canonical header keys, []string values); the
	// codec converts from and to Node's string-valued maps.
	Handshake *Handshake
	// Rooms are the socket's rooms, its own id included.
	Rooms []string
	// Data is socket.data, in wire form once decoded.
	Data any
	// EncodedHandshake, when set, is Handshake already encoded by
	// [EncodeHandshake]: msgpack answers splice it instead of encoding
	// Handshake again. Decoders leave it nil.
	EncodedHandshake *EncodedHandshake
}

// EncodedHandshake is a handshake in the msgpack form of a fetchSockets
// answer. A handshake never changes after the connection, so a server can
// encode each socket's once instead of on every fetchSockets request.
type EncodedHandshake struct {
	msgpack codec.RawMsgpack
}

// Len is the encoded size in bytes.
func (e *EncodedHandshake) Len() int { return len(e.msgpack) }

// EncodeHandshake encodes a handshake as fetchSockets answers carry it
// (see SocketInfo.EncodedHandshake).
func EncodeHandshake(h *Handshake) (*EncodedHandshake, error) {
	w, err := handshakeWire(h)
	if err != nil {
		return nil, err
	}
	b, err := codec.MarshalMsgpack(w)
	if err != nil {
		return nil, err
	}
	return &EncodedHandshake{msgpack: b}, nil
}

// wire encodes a socket description. Data that cannot be encoded (a
// function, a channel, NaN...) is sent as null rather than failing the whole
// fetchSockets answer, much as JSON.stringify drops what it cannot write.
//
// For a msgpack answer, an EncodedHandshake is spliced as is.
func (s SocketInfo) wire(msgpack bool) (codec.Object, error) {
	data, err := codec.ToWire(s.Data)
	if err != nil {
		data = nil
	}
	var hs any
	if msgpack && s.EncodedHandshake != nil {
		hs = s.EncodedHandshake.msgpack
	} else if hs, err = handshakeWire(s.Handshake); err != nil {
		return nil, fmt.Errorf("socket %s handshake: %w", s.ID, err)
	}
	return codec.Object{{"id", s.ID}, {"handshake", hs}, {"rooms", stringsToAny(s.Rooms)}, {"data", data}}, nil
}

// socketsWire describes sockets for an answer, in msgpack when msgpack is
// set (JSON or msgpack otherwise).
func socketsWire(s []SocketInfo, msgpack bool) ([]codec.Object, error) {
	out := make([]codec.Object, len(s))
	for i, e := range s {
		w, err := e.wire(msgpack)
		if err != nil {
			return nil, err
		}
		out[i] = w
	}
	return out, nil
}

// handshakeWire writes Node's handshake shape: lowercase header names and
// string values (arrays only for repeated values), string query values.
func handshakeWire(h *Handshake) (codec.Object, error) {
	if h == nil {
		h = &Handshake{}
	}
	auth, err := codec.ToWire(h.Auth)
	if err != nil {
		return nil, err
	}
	if auth == nil {
		auth = map[string]any{}
	}
	return codec.Object{
		{"headers", multiMapWire(h.Headers, true)},
		{"time", h.Time},
		{"address", h.Address},
		{"xdomain", h.Xdomain},
		{"secure", h.Secure},
		{"issued", h.Issued},
		{"url", h.Url},
		{"query", multiMapWire(h.Query, false)},
		{"auth", auth},
	}, nil
}

func multiMapWire(m map[string][]string, lowerKeys bool) codec.Object {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Names that differ only by case ("X-A" and "x-a") are one header for
	// Node: merge their values rather than writing a key twice.
	names := make([]string, 0, len(keys))
	merged := make(map[string][]string, len(keys))
	for _, k := range keys {
		name := k
		if lowerKeys {
			name = strings.ToLower(k)
		}
		if len(m[k]) == 0 {
			continue
		}
		if _, seen := merged[name]; !seen {
			names = append(names, name)
		}
		merged[name] = append(merged[name], m[k]...)
	}
	sort.Strings(names)
	o := make(codec.Object, 0, len(names))
	for _, name := range names {
		vals := merged[name]
		if len(vals) == 1 {
			o = append(o, codec.Member{name, vals[0]})
		} else {
			o = append(o, codec.Member{name, stringsToAny(vals)})
		}
	}
	return o
}
