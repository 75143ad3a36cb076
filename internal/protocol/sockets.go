package protocol

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/zishang520/socket.io/v2/socket"
)

// SocketInfo describes a socket of another server, as carried by fetchSockets
// responses.
type SocketInfo struct {
	// ID is the socket id.
	ID string
	// Handshake uses Go's shape (canonical header keys, []string values); the
	// codec converts from and to Node's string-valued maps.
	Handshake *socket.Handshake
	// Rooms are the socket's rooms, its own id included.
	Rooms []string
	// Data is socket.data, in wire form once decoded.
	Data any
}

// wire encodes a socket description. Data that cannot be encoded (a
// function, a channel, NaN...) is sent as null rather than failing the whole
// fetchSockets answer, much as JSON.stringify drops what it cannot write.
func (s SocketInfo) wire() (obj, error) {
	data, err := ToWire(s.Data)
	if err != nil {
		data = nil
	}
	hs, err := handshakeWire(s.Handshake)
	if err != nil {
		return nil, fmt.Errorf("socket %s handshake: %w", s.ID, err)
	}
	return obj{{"id", s.ID}, {"handshake", hs}, {"rooms", stringsToAny(s.Rooms)}, {"data", data}}, nil
}

func socketsWire(s []SocketInfo) ([]obj, error) {
	out := make([]obj, len(s))
	for i, e := range s {
		w, err := e.wire()
		if err != nil {
			return nil, err
		}
		out[i] = w
	}
	return out, nil
}

// handshakeWire writes Node's handshake shape: lowercase header names and
// string values (arrays only for repeated values), string query values.
func handshakeWire(h *socket.Handshake) (obj, error) {
	if h == nil {
		h = &socket.Handshake{}
	}
	auth, err := ToWire(h.Auth)
	if err != nil {
		return nil, err
	}
	if auth == nil {
		auth = map[string]any{}
	}
	return obj{
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

func multiMapWire(m map[string][]string, lowerKeys bool) obj {
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
	o := make(obj, 0, len(names))
	for _, name := range names {
		vals := merged[name]
		if len(vals) == 1 {
			o = append(o, kv{name, vals[0]})
		} else {
			o = append(o, kv{name, stringsToAny(vals)})
		}
	}
	return o
}

func decodeSockets(v any) ([]SocketInfo, error) {
	if v == nil {
		return nil, nil
	}
	a, err := asArray(v, "sockets")
	if err != nil {
		return nil, err
	}
	out := make([]SocketInfo, 0, len(a))
	for _, e := range a {
		m, err := asMap(e, "socket")
		if err != nil {
			return nil, err
		}
		var s SocketInfo
		id, ok, err := optString(m, "id")
		if err != nil {
			return nil, err
		}
		if !ok || id == "" {
			return nil, fmt.Errorf("%w: socket without id", ErrMalformed)
		}
		s.ID = id
		if s.Rooms, err = optStrings(m, "rooms"); err != nil {
			return nil, err
		}
		if s.Rooms == nil {
			s.Rooms = []string{}
		}
		if s.Handshake, err = decodeHandshake(m["handshake"]); err != nil {
			return nil, err
		}
		s.Data = m["data"]
		out = append(out, s)
	}
	return out, nil
}

// decodeHandshake accepts Node's and Go's shapes alike: header and query
// values may be strings or arrays of strings. Header names are
// canonicalized as net/http does, so remote sockets look like local ones.
func decodeHandshake(v any) (*socket.Handshake, error) {
	h := &socket.Handshake{Headers: map[string][]string{}, Query: map[string][]string{}}
	if v == nil {
		return h, nil
	}
	m, err := asMap(v, "handshake")
	if err != nil {
		return nil, err
	}
	if h.Headers, err = decodeMultiMap(m["headers"], true); err != nil {
		return nil, err
	}
	if h.Query, err = decodeMultiMap(m["query"], false); err != nil {
		return nil, err
	}
	if h.Time, _, err = optString(m, "time"); err != nil {
		return nil, err
	}
	if h.Address, _, err = optString(m, "address"); err != nil {
		return nil, err
	}
	if h.Url, _, err = optString(m, "url"); err != nil {
		return nil, err
	}
	if h.Xdomain, err = optBool(m, "xdomain"); err != nil {
		return nil, err
	}
	if h.Secure, err = optBool(m, "secure"); err != nil {
		return nil, err
	}
	if h.Issued, _, err = optInt(m, "issued"); err != nil {
		return nil, err
	}
	h.Auth = m["auth"]
	return h, nil
}

func decodeMultiMap(v any, canonical bool) (map[string][]string, error) {
	out := map[string][]string{}
	if v == nil {
		return out, nil
	}
	m, err := asMap(v, "handshake map")
	if err != nil {
		return nil, err
	}
	for k, e := range m {
		name := k
		if canonical {
			name = http.CanonicalHeaderKey(k)
		}
		switch x := e.(type) {
		case string:
			out[name] = append(out[name], x)
		case []any:
			for _, s := range x {
				str, ok := s.(string)
				if !ok {
					return nil, fmt.Errorf("%w: handshake value of %q is %s", ErrMalformed, k, typeName(s))
				}
				out[name] = append(out[name], str)
			}
		case nil:
		default:
			return nil, fmt.Errorf("%w: handshake value of %q is %s", ErrMalformed, k, typeName(e))
		}
	}
	return out, nil
}
