package protocol

import (
	"fmt"
	"net/textproto"
	"strings"

	"github.com/sioredis/sioredis/internal/codec"
)

// fetchSockets answers are the largest messages of the protocol (a handshake
// per socket) and a requester decodes one per server per call. They are
// decoded straight into SocketInfo values instead of a generic tree: only
// socket.data, handshake.auth and keys the protocol does not know go
// through the generic decoders. The same typed code reads msgpack and JSON
// through codec.Tokens, so both forms accept and reject the same shapes as
// the generic path did.

// readObject reads the object at the reader's position into a generic map
// (nil when empty), except the members for which typed returns true: typed
// reads their value itself. typed also gets the members read so far.
func readObject(r codec.Tokens, what string, typed func(key string, m map[string]any) (bool, error)) (map[string]any, error) {
	k, err := r.Peek()
	if err != nil {
		return nil, err
	}
	if k != codec.KindObject {
		v, err := r.Value()
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s is %s, want an object", codec.ErrMalformed, what, codec.TypeName(v))
	}
	hint, err := r.EnterObject()
	if err != nil {
		return nil, err
	}
	var m map[string]any // allocated for the first member typed does not read
	for {
		more, err := r.More()
		if err != nil {
			return nil, err
		}
		if !more {
			return m, nil
		}
		key, err := r.Key()
		if err != nil {
			return nil, err
		}
		done, err := typed(key, m)
		if err != nil {
			return nil, err
		}
		if done {
			continue
		}
		v, err := r.Value()
		if err != nil {
			return nil, err
		}
		if m == nil {
			m = make(map[string]any, min(hint, 16))
		}
		m[key] = v
	}
}

// socketList is a decoded "sockets" member.
type socketList struct {
	present bool // non-null
	ids     []string
	infos   []SocketInfo
	isIDs   bool // a legacy list of ids (first element a string)
}

// readSocketList reads a "sockets" value. With allowIDs (classic
// responses), a list whose first element is a string is a list of socket
// ids, as the legacy SOCKETS request answers.
func readSocketList(r codec.Tokens, allowIDs bool) (socketList, error) {
	var out socketList
	k, err := r.Peek()
	if err != nil {
		return out, err
	}
	switch k {
	case codec.KindNull:
		_, err := r.Value()
		return out, err
	case codec.KindArray:
	default:
		v, err := r.Value()
		if err != nil {
			return out, err
		}
		return out, fmt.Errorf("%w: sockets is %s, want an array", codec.ErrMalformed, codec.TypeName(v))
	}
	out.present = true
	hint, err := r.EnterArray()
	if err != nil {
		return out, err
	}
	out.infos = make([]SocketInfo, 0, hint)
	var scratch fetchScratch
	for first := true; ; first = false {
		more, err := r.More()
		if err != nil || !more {
			return out, err
		}
		if first && allowIDs {
			if k, err = r.Peek(); err != nil {
				return out, err
			}
			if out.isIDs = k == codec.KindString; out.isIDs {
				out.ids = make([]string, 0, hint)
			}
		}
		if out.isIDs {
			s, err := readRoom(r, "sockets", "")
			if err != nil {
				return out, err
			}
			out.ids = append(out.ids, s)
			continue
		}
		s, err := readSocket(r, &scratch)
		if err != nil {
			return out, err
		}
		out.infos = append(out.infos, s)
	}
}

// readRoom reads a room name or socket id: a string, or a number turned
// into its JavaScript form. A room equal to id (the socket's own room)
// shares its string; other names are interned (rooms are shared).
func readRoom(r codec.Tokens, field, id string) (string, error) {
	k, err := r.Peek()
	if err != nil {
		return "", err
	}
	if k == codec.KindString {
		return r.Str(id, id != "")
	}
	v, err := r.Value()
	if err != nil {
		return "", err
	}
	if f, ok := v.(float64); ok {
		return codec.FormatNumber(f), nil
	}
	return "", fmt.Errorf("%w: %q holds %s, want strings", codec.ErrMalformed, field, codec.TypeName(v))
}

// readRooms reads an optional array of room names (see readRoom for id).
func readRooms(r codec.Tokens, field, id string) ([]string, error) {
	k, err := r.Peek()
	if err != nil {
		return nil, err
	}
	if k != codec.KindArray {
		v, err := r.Value()
		if err != nil || v == nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %q is %s, want an array", codec.ErrMalformed, field, codec.TypeName(v))
	}
	hint, err := r.EnterArray()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, max(hint, 2))
	for {
		more, err := r.More()
		if err != nil || !more {
			return out, err
		}
		s, err := readRoom(r, field, id)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
}

// readOptString reads a string or null, interned with intern.
func readOptString(r codec.Tokens, field string, intern bool) (string, error) {
	k, err := r.Peek()
	if err != nil {
		return "", err
	}
	if k == codec.KindString {
		return r.Str("", intern)
	}
	v, err := r.Value()
	if err != nil || v == nil {
		return "", err
	}
	return "", fmt.Errorf("%w: %q is %s, want a string", codec.ErrMalformed, field, codec.TypeName(v))
}

func readSocket(r codec.Tokens, sc *fetchScratch) (SocketInfo, error) {
	var s SocketInfo
	_, err := readObject(r, "socket", func(key string, _ map[string]any) (bool, error) {
		var err error
		switch key {
		case "id":
			s.ID, err = readOptString(r, "id", false)
		case "rooms":
			s.Rooms, err = readRooms(r, "rooms", s.ID)
		case "handshake":
			s.Handshake, err = readHandshake(r, sc)
		case "data":
			s.Data, err = r.Value()
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return s, err
	}
	if s.ID == "" {
		return s, fmt.Errorf("%w: socket without id", codec.ErrMalformed)
	}
	if s.Rooms == nil {
		s.Rooms = []string{}
	}
	if s.Handshake == nil {
		s.Handshake = &Handshake{Headers: map[string][]string{}, Query: map[string][]string{}}
	}
	return s, nil
}

// readHandshake accepts Node's and Go's shapes alike: header and query
// values may be strings or arrays of strings. Header names are
// canonicalized as net/http does, so remote sockets look like local ones.
func readHandshake(r codec.Tokens, sc *fetchScratch) (*Handshake, error) {
	if k, err := r.Peek(); err != nil {
		return nil, err
	} else if k == codec.KindNull {
		_, err := r.Value()
		return nil, err
	}
	h := &Handshake{}
	_, err := readObject(r, "handshake", func(key string, _ map[string]any) (bool, error) {
		var v any
		var err error
		switch key {
		case "headers":
			h.Headers, err = readMultiMap(r, true, sc)
		case "query":
			h.Query, err = readMultiMap(r, false, sc)
		case "time":
			h.Time, err = readOptString(r, key, true)
		case "address":
			h.Address, err = readOptString(r, key, true)
		case "url":
			h.Url, err = readOptString(r, key, true)
		case "xdomain":
			if v, err = r.Value(); err == nil {
				h.Xdomain, err = boolValue(v, key)
			}
		case "secure":
			if v, err = r.Value(); err == nil {
				h.Secure, err = boolValue(v, key)
			}
		case "issued":
			if v, err = r.Value(); err == nil {
				h.Issued, _, err = intValue(v, key)
			}
		case "auth":
			h.Auth, err = r.Value()
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return nil, err
	}
	if h.Headers == nil {
		h.Headers = map[string][]string{}
	}
	if h.Query == nil {
		h.Query = map[string][]string{}
	}
	return h, nil
}

// fetchScratch is reused from socket to socket of one answer.
type fetchScratch struct {
	entries []multiEntry // members of the multi-map being read
	slab    []string     // backing array of single header and query values
}

// one returns v as a one-element slice carved from a shared backing array
// (most header and query values are single strings); appending to it
// copies.
func (sc *fetchScratch) one(v string) []string {
	if len(sc.slab) == cap(sc.slab) {
		sc.slab = make([]string, 0, 128)
	}
	sc.slab = append(sc.slab, v)
	n := len(sc.slab)
	return sc.slab[n-1 : n : n]
}

// multiEntry is one member of a header or query object.
type multiEntry struct {
	key  string
	vals []string
}

// readMultiMap reads a header or query object. A key repeated verbatim
// keeps its last value, as JSON.parse does; header names that differ only
// by case are merged into one canonical name, in the order they came.
func readMultiMap(r codec.Tokens, canonical bool, sc *fetchScratch) (map[string][]string, error) {
	k, err := r.Peek()
	if err != nil {
		return nil, err
	}
	if k != codec.KindObject {
		v, err := r.Value()
		if err != nil {
			return nil, err
		}
		if v == nil {
			return map[string][]string{}, nil
		}
		return nil, fmt.Errorf("%w: handshake map is %s, want an object", codec.ErrMalformed, codec.TypeName(v))
	}
	hint, err := r.EnterObject()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, min(hint, 64))
	entries := sc.entries[:0]
	defer func() { sc.entries = entries[:0] }()
	repeated := false
	for {
		more, err := r.More()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		key, err := r.Key()
		if err != nil {
			return nil, err
		}
		vals, err := readMultiValue(r, key, sc)
		if err != nil {
			return nil, err
		}
		entries = append(entries, multiEntry{key, vals})
		name := key
		if canonical {
			name = canonicalHeader(key)
		}
		if _, seen := out[name]; seen {
			repeated = true
		} else if len(vals) > 0 {
			out[name] = vals
		}
	}
	if repeated {
		out = mergeEntries(entries, canonical)
	}
	clear(entries) // keep no strings alive through the scratch slice
	return out, nil
}

// mergeEntries builds a multi-map from entries in wire order: the last
// value of a verbatim key wins, then case variants merge.
func mergeEntries(entries []multiEntry, canonical bool) map[string][]string {
	last := make(map[string]int, len(entries))
	for i, e := range entries {
		last[e.key] = i
	}
	out := make(map[string][]string, len(last))
	for i, e := range entries {
		if last[e.key] != i || len(e.vals) == 0 {
			continue
		}
		name := e.key
		if canonical {
			name = canonicalHeader(e.key)
		}
		out[name] = append(out[name], e.vals...)
	}
	return out
}

// readMultiValue reads a header or query value: a string, an array of
// strings or null (nil).
func readMultiValue(r codec.Tokens, key string, sc *fetchScratch) ([]string, error) {
	k, err := r.Peek()
	if err != nil {
		return nil, err
	}
	switch k {
	case codec.KindString:
		s, err := r.Str("", true)
		if err != nil {
			return nil, err
		}
		return sc.one(s), nil
	case codec.KindArray:
		hint, err := r.EnterArray()
		if err != nil {
			return nil, err
		}
		var out []string
		if hint > 0 {
			out = make([]string, 0, hint)
		}
		for {
			more, err := r.More()
			if err != nil {
				return nil, err
			}
			if !more {
				return out, nil
			}
			if k, err = r.Peek(); err != nil {
				return nil, err
			}
			if k != codec.KindString {
				v, err := r.Value()
				if err != nil {
					return nil, err
				}
				return nil, fmt.Errorf("%w: handshake value of %q is %s", codec.ErrMalformed, key, codec.TypeName(v))
			}
			s, err := r.Str("", true)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	v, err := r.Value()
	if err != nil || v == nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: handshake value of %q is %s", codec.ErrMalformed, key, codec.TypeName(v))
}

// canonicalHeader is http.CanonicalHeaderKey without the allocation for the
// header names browsers and socket.io clients send.
func canonicalHeader(name string) string {
	if c, ok := commonHeaders[name]; ok {
		return c
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

var commonHeaders = func() map[string]string {
	names := []string{"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
		"Connection", "Content-Length", "Content-Type", "Cookie", "Host", "Origin", "Pragma", "Referer",
		"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode",
		"Sec-Fetch-Site", "Sec-Websocket-Extensions", "Sec-Websocket-Key", "Sec-Websocket-Version",
		"Upgrade", "User-Agent", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"}
	m := make(map[string]string, 2*len(names))
	for _, n := range names {
		c := textproto.CanonicalMIMEHeaderKey(n)
		m[c] = c
		m[strings.ToLower(n)] = c
	}
	return m
}()
