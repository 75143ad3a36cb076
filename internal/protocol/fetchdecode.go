package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// fetchSockets answers are the largest messages of the protocol (a handshake
// per socket) and a requester decodes one per server per call. They are
// decoded straight into SocketInfo values instead of a generic tree: only
// socket.data, handshake.auth and keys the protocol does not know go
// through the generic decoders. The same typed code reads msgpack and JSON
// through tokenReader, so both forms accept and reject the same shapes as
// the generic path did.

// tokenKind is the kind of the next value of a tokenReader.
type tokenKind int

const (
	kindOther tokenKind = iota // number, boolean, binary, timestamp
	kindNull
	kindString
	kindArray
	kindObject
)

// tokenReader reads one value at a time from a msgpack or JSON payload.
type tokenReader interface {
	// peek reports the kind of the next value without consuming it.
	peek() (tokenKind, error)
	// str reads a string value (peek said kindString): known when equal
	// to it, shared through the reader's intern table with intern.
	str(known string, intern bool) (string, error)
	// value decodes the next value into a generic tree, as the generic
	// decoders do.
	value() (any, error)
	// enterArray and enterObject consume a container's start (peek said
	// kindArray or kindObject); hint is its length when known, else 0.
	enterArray() (hint int, err error)
	enterObject() (hint int, err error)
	// more reports whether the innermost open container has another
	// element; false consumes its end.
	more() (bool, error)
	// key reads the next property name of an object.
	key() (string, error)
}

// internTable shares the strings that repeat from socket to socket in one
// answer (header names and most header values), so that they are allocated
// once per answer rather than once per socket. It is bounded, and only
// short strings are kept.
type internTable map[string]string

const (
	internMaxEntries = 512
	internMaxLen     = 128
)

func (t *internTable) get(p []byte) string {
	if len(p) > internMaxLen {
		return string(p)
	}
	if s, ok := (*t)[string(p)]; ok {
		return s
	}
	s := string(p)
	if *t == nil {
		*t = make(internTable, 32)
	}
	if len(*t) < internMaxEntries {
		(*t)[s] = s
	}
	return s
}

// --- msgpack ---

// mpReader is a tokenReader over the one-pass msgpack decoder; it keeps the
// decoder's depth and value budget.
type mpReader struct {
	d      mpDecoder
	left   []int // entries left in each open container
	strs   internTable
	canons map[string]string
}

func (r *mpReader) depth() int { return len(r.left) }

func (r *mpReader) peek() (tokenKind, error) {
	if r.d.off >= len(r.d.b) {
		return 0, r.d.errEOF()
	}
	switch c := r.d.b[r.d.off]; {
	case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf:
		return kindObject, nil
	case c >= 0x90 && c <= 0x9f, c == 0xdc, c == 0xdd:
		return kindArray, nil
	case c >= 0xa0 && c <= 0xbf, c >= 0xd9 && c <= 0xdb:
		return kindString, nil
	case c == 0xc0:
		return kindNull, nil
	}
	return kindOther, nil
}

func (r *mpReader) str(known string, intern bool) (string, error) {
	if r.depth() > MaxDepth {
		return "", fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
	}
	if err := r.d.spend(1); err != nil {
		return "", err
	}
	c := r.d.b[r.d.off]
	r.d.off++
	n := int(c & 0x1f)
	if c >= 0xd9 {
		var err error
		if n, err = r.d.length(1 << (c - 0xd9)); err != nil {
			return "", err
		}
	}
	p, err := r.d.take(n)
	if err != nil {
		return "", err
	}
	switch {
	case string(p) == known:
		return known, nil
	case intern:
		return r.strs.get(p), nil
	}
	return string(p), nil
}

func (r *mpReader) value() (any, error) { return r.d.value(r.depth()) }

func (r *mpReader) enterArray() (int, error) { return r.enter(0xdc, 1, 1, "elements") }

func (r *mpReader) enterObject() (int, error) { return r.enter(0xde, 2, 1+mapCost, "entries") }

// enter reads an array (slots 1) or map (slots 2: key and value) header
// whose 16- and 32-bit forms start at wide, and rejects counts that the
// remaining bytes (at least one per slot) or the value budget cannot hold.
func (r *mpReader) enter(wide byte, slots, cost int, what string) (int, error) {
	if r.depth() > MaxDepth {
		return 0, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
	}
	if err := r.d.spend(cost); err != nil {
		return 0, err
	}
	c := r.d.b[r.d.off]
	r.d.off++
	n := int(c & 0x0f)
	if c >= wide {
		var err error
		if n, err = r.d.length(2 << (c - wide)); err != nil {
			return 0, err
		}
	}
	if n > (len(r.d.b)-r.d.off)/slots {
		return 0, fmt.Errorf("%w: %d %s announced, %d bytes remain", ErrMalformed, n, what, len(r.d.b)-r.d.off)
	}
	if slots*n > r.d.budget {
		return 0, fmt.Errorf("%w: too many values", ErrMalformed)
	}
	r.left = append(r.left, n)
	return n, nil
}

func (r *mpReader) more() (bool, error) {
	top := len(r.left) - 1
	if r.left[top] == 0 {
		r.left = r.left[:top]
		return false, nil
	}
	r.left[top]--
	return true, nil
}

func (r *mpReader) key() (string, error) {
	// Short string keys: interned (protocol names and header names repeat).
	if r.d.off < len(r.d.b) {
		if c := r.d.b[r.d.off]; c >= 0xa0 && c <= 0xbf {
			if err := r.d.spend(1); err != nil {
				return "", err
			}
			r.d.off++
			p, err := r.d.take(int(c & 0x1f))
			if err != nil {
				return "", err
			}
			if k := protocolKey(p); k != "" {
				return k, nil
			}
			return r.strs.get(p), nil
		}
	}
	return r.d.key(r.depth())
}

// --- JSON ---

// jsonReader is a tokenReader over jsontext. Strings and numbers keep
// encoding/json's semantics (invalid UTF-8 and lone surrogates become
// U+FFFD, numbers are float64); the caller has bounded depth and size with
// checkJSONShape.
type jsonReader struct {
	dec  *jsontext.Decoder
	strs internTable
}

func newJSONReader(payload []byte) *jsonReader {
	return &jsonReader{dec: jsontext.NewDecoder(bytes.NewBuffer(payload),
		jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))}
}

func jsonErr(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func (r *jsonReader) peek() (tokenKind, error) {
	switch r.dec.PeekKind() {
	case 'n':
		return kindNull, nil
	case '"':
		return kindString, nil
	case '[':
		return kindArray, nil
	case '{':
		return kindObject, nil
	case 0:
		_, err := r.dec.ReadToken()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return 0, jsonErr(err)
	}
	return kindOther, nil
}

// quoted turns a raw JSON string into its value: verbatim when it has no
// escape and is valid UTF-8, through encoding/json otherwise. See
// tokenReader.str for known and intern.
func (r *jsonReader) quoted(raw []byte, known string, intern bool) (string, error) {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		switch {
		case string(body) == known:
			return known, nil
		case intern:
			return r.strs.get(body), nil
		}
		return string(body), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", jsonErr(err)
	}
	return s, nil
}

func (r *jsonReader) str(known string, intern bool) (string, error) {
	raw, err := r.dec.ReadValue()
	if err != nil {
		return "", jsonErr(err)
	}
	return r.quoted(raw, known, intern)
}

func (r *jsonReader) key() (string, error) {
	raw, err := r.dec.ReadValue()
	if err != nil {
		return "", jsonErr(err)
	}
	if len(raw) > 2 {
		if k := protocolKey(raw[1 : len(raw)-1]); k != "" {
			return k, nil
		}
	}
	return r.quoted(raw, "", true)
}

func (r *jsonReader) value() (any, error) {
	raw, err := r.dec.ReadValue()
	if err != nil {
		return nil, jsonErr(err)
	}
	switch raw[0] {
	case 'n':
		return nil, nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case '"':
		return r.quoted(raw, "", false)
	case '{', '[':
		switch string(raw) {
		case "{}": // the usual auth
			return map[string]any{}, nil
		case "[]":
			return []any{}, nil
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, jsonErr(err)
		}
		return v, nil
	}
	// A number: encoding/json parses it with ParseFloat and fails on
	// overflow.
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, fmt.Errorf("%w: number %s: %v", ErrMalformed, raw, err)
	}
	return f, nil
}

func (r *jsonReader) enterArray() (int, error) {
	if _, err := r.dec.ReadToken(); err != nil {
		return 0, jsonErr(err)
	}
	return 0, nil
}

func (r *jsonReader) enterObject() (int, error) { return r.enterArray() }

func (r *jsonReader) more() (bool, error) {
	switch r.dec.PeekKind() {
	case ']', '}':
		if _, err := r.dec.ReadToken(); err != nil {
			return false, jsonErr(err)
		}
		return false, nil
	case 0:
		_, err := r.dec.ReadToken()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return false, jsonErr(err)
	}
	return true, nil
}

// end checks that nothing but whitespace follows the top-level value.
func (r *jsonReader) end() error {
	if _, err := r.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("trailing data")
		}
		return jsonErr(err)
	}
	return nil
}

// --- entry points ---

// newTokenReader checks the payload's size (and, for JSON, its shape
// bounds) and returns a reader positioned on its top-level value.
func newTokenReader(payload []byte) (tokenReader, func() error, error) {
	if len(payload) == 0 {
		return nil, nil, fmt.Errorf("%w: empty payload", ErrMalformed)
	}
	if len(payload) > MaxMessageSize {
		return nil, nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(payload), MaxMessageSize)
	}
	if payload[0] == '{' {
		if err := checkJSONShape(payload); err != nil {
			return nil, nil, err
		}
		r := newJSONReader(payload)
		return r, r.end, nil
	}
	r := &mpReader{d: mpDecoder{b: payload, budget: decodeBudget}, left: make([]int, 0, 8)}
	return r, func() error {
		if r.d.off != len(r.d.b) {
			return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.d.b)-r.d.off)
		}
		return nil
	}, nil
}

// readObject reads the object at the reader's position into a generic map
// (nil when empty), except the members for which typed returns true: typed
// reads their value itself. typed also gets the members read so far.
func readObject(r tokenReader, what string, typed func(key string, m map[string]any) (bool, error)) (map[string]any, error) {
	k, err := r.peek()
	if err != nil {
		return nil, err
	}
	if k != kindObject {
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s is %s, want an object", ErrMalformed, what, typeName(v))
	}
	hint, err := r.enterObject()
	if err != nil {
		return nil, err
	}
	var m map[string]any // allocated for the first member typed does not read
	for {
		more, err := r.more()
		if err != nil {
			return nil, err
		}
		if !more {
			return m, nil
		}
		key, err := r.key()
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
		v, err := r.value()
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
func readSocketList(r tokenReader, allowIDs bool) (socketList, error) {
	var out socketList
	k, err := r.peek()
	if err != nil {
		return out, err
	}
	switch k {
	case kindNull:
		_, err := r.value()
		return out, err
	case kindArray:
	default:
		v, err := r.value()
		if err != nil {
			return out, err
		}
		return out, fmt.Errorf("%w: sockets is %s, want an array", ErrMalformed, typeName(v))
	}
	out.present = true
	hint, err := r.enterArray()
	if err != nil {
		return out, err
	}
	out.infos = make([]SocketInfo, 0, hint)
	var scratch fetchScratch
	for first := true; ; first = false {
		more, err := r.more()
		if err != nil || !more {
			return out, err
		}
		if first && allowIDs {
			if k, err = r.peek(); err != nil {
				return out, err
			}
			if out.isIDs = k == kindString; out.isIDs {
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
func readRoom(r tokenReader, field, id string) (string, error) {
	k, err := r.peek()
	if err != nil {
		return "", err
	}
	if k == kindString {
		return r.str(id, id != "")
	}
	v, err := r.value()
	if err != nil {
		return "", err
	}
	if f, ok := v.(float64); ok {
		return jsNumberString(f), nil
	}
	return "", fmt.Errorf("%w: %q holds %s, want strings", ErrMalformed, field, typeName(v))
}

// readRooms reads an optional array of room names (see readRoom for id).
func readRooms(r tokenReader, field, id string) ([]string, error) {
	k, err := r.peek()
	if err != nil {
		return nil, err
	}
	if k != kindArray {
		v, err := r.value()
		if err != nil || v == nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %q is %s, want an array", ErrMalformed, field, typeName(v))
	}
	hint, err := r.enterArray()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, max(hint, 2))
	for {
		more, err := r.more()
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
func readOptString(r tokenReader, field string, intern bool) (string, error) {
	k, err := r.peek()
	if err != nil {
		return "", err
	}
	if k == kindString {
		return r.str("", intern)
	}
	v, err := r.value()
	if err != nil || v == nil {
		return "", err
	}
	return "", fmt.Errorf("%w: %q is %s, want a string", ErrMalformed, field, typeName(v))
}

func readSocket(r tokenReader, sc *fetchScratch) (SocketInfo, error) {
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
			s.Data, err = r.value()
		default:
			return false, nil
		}
		return true, err
	})
	if err != nil {
		return s, err
	}
	if s.ID == "" {
		return s, fmt.Errorf("%w: socket without id", ErrMalformed)
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
func readHandshake(r tokenReader, sc *fetchScratch) (*Handshake, error) {
	if k, err := r.peek(); err != nil {
		return nil, err
	} else if k == kindNull {
		_, err := r.value()
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
			if v, err = r.value(); err == nil {
				h.Xdomain, err = boolValue(v, key)
			}
		case "secure":
			if v, err = r.value(); err == nil {
				h.Secure, err = boolValue(v, key)
			}
		case "issued":
			if v, err = r.value(); err == nil {
				h.Issued, _, err = intValue(v, key)
			}
		case "auth":
			h.Auth, err = r.value()
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
func readMultiMap(r tokenReader, canonical bool, sc *fetchScratch) (map[string][]string, error) {
	k, err := r.peek()
	if err != nil {
		return nil, err
	}
	if k != kindObject {
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		if v == nil {
			return map[string][]string{}, nil
		}
		return nil, fmt.Errorf("%w: handshake map is %s, want an object", ErrMalformed, typeName(v))
	}
	hint, err := r.enterObject()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, min(hint, 64))
	entries := sc.entries[:0]
	defer func() { sc.entries = entries[:0] }()
	repeated := false
	for {
		more, err := r.more()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		key, err := r.key()
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
func readMultiValue(r tokenReader, key string, sc *fetchScratch) ([]string, error) {
	k, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch k {
	case kindString:
		s, err := r.str("", true)
		if err != nil {
			return nil, err
		}
		return sc.one(s), nil
	case kindArray:
		hint, err := r.enterArray()
		if err != nil {
			return nil, err
		}
		var out []string
		if hint > 0 {
			out = make([]string, 0, hint)
		}
		for {
			more, err := r.more()
			if err != nil {
				return nil, err
			}
			if !more {
				return out, nil
			}
			if k, err = r.peek(); err != nil {
				return nil, err
			}
			if k != kindString {
				v, err := r.value()
				if err != nil {
					return nil, err
				}
				return nil, fmt.Errorf("%w: handshake value of %q is %s", ErrMalformed, key, typeName(v))
			}
			s, err := r.str("", true)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	v, err := r.value()
	if err != nil || v == nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: handshake value of %q is %s", ErrMalformed, key, typeName(v))
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
