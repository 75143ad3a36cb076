package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Tokens reads a msgpack or JSON payload one value at a time, for decoders
// that build typed values instead of a generic tree (fetchSockets answers,
// the largest messages of the protocol). Both forms accept and reject what
// UnmarshalMsgpack and UnmarshalJSON do, under the same limits.
type Tokens interface {
	// Peek reports the kind of the next value without consuming it.
	Peek() (Kind, error)
	// Str reads a string value (Peek said KindString): known when equal
	// to it, shared through the reader's intern table with intern.
	Str(known string, intern bool) (string, error)
	// Value decodes the next value into a generic tree, as UnmarshalMsgpack
	// and UnmarshalJSON do.
	Value() (any, error)
	// EnterArray and EnterObject consume a container's start (Peek said
	// KindArray or KindObject); hint is its length when known, else 0.
	EnterArray() (hint int, err error)
	EnterObject() (hint int, err error)
	// More reports whether the innermost open container has another
	// element; false consumes its end.
	More() (bool, error)
	// Key reads the next property name of an object.
	Key() (string, error)
	// End checks that nothing follows the top-level value.
	End() error
}

// Kind is the kind of the next value of a [Tokens].
type Kind int

// The kinds [Tokens.Peek] tells apart.
const (
	KindOther  Kind = iota // number, boolean, binary, timestamp
	KindNull               // null (nil)
	KindString             // string
	KindArray              // array
	KindObject             // object (map)
)

// NewTokens checks the payload's size (and, for JSON, its shape bounds) and
// returns a reader positioned on its top-level value: JSON when the payload
// starts with '{', msgpack otherwise.
func NewTokens(payload []byte) (Tokens, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: empty payload", ErrMalformed)
	}
	if len(payload) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(payload), MaxMessageSize)
	}
	if payload[0] == '{' {
		if err := checkJSONShape(payload); err != nil {
			return nil, err
		}
		return newJSONReader(payload), nil
	}
	return &mpReader{d: mpDecoder{b: payload, budget: decodeBudget}, left: make([]int, 0, 8)}, nil
}

// --- msgpack ---

// mpReader is a Tokens over the one-pass msgpack decoder; it keeps the
// decoder's depth and value budget.
type mpReader struct {
	d    mpDecoder
	left []int // entries left in each open container
	strs internTable
}

// End implements Tokens.
func (r *mpReader) End() error {
	if r.d.off != len(r.d.b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.d.b)-r.d.off)
	}
	return nil
}

func (r *mpReader) depth() int { return len(r.left) }

func (r *mpReader) Peek() (Kind, error) {
	if r.d.off >= len(r.d.b) {
		return 0, r.d.errEOF()
	}
	switch c := r.d.b[r.d.off]; {
	case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf:
		return KindObject, nil
	case c >= 0x90 && c <= 0x9f, c == 0xdc, c == 0xdd:
		return KindArray, nil
	case c >= 0xa0 && c <= 0xbf, c >= 0xd9 && c <= 0xdb:
		return KindString, nil
	case c == 0xc0:
		return KindNull, nil
	}
	return KindOther, nil
}

func (r *mpReader) Str(known string, intern bool) (string, error) {
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

func (r *mpReader) Value() (any, error) { return r.d.value(r.depth()) }

func (r *mpReader) EnterArray() (int, error) { return r.enter(0xdc, 1, 1, "elements") }

func (r *mpReader) EnterObject() (int, error) { return r.enter(0xde, 2, 1+mapCost, "entries") }

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

func (r *mpReader) More() (bool, error) {
	top := len(r.left) - 1
	if r.left[top] == 0 {
		r.left = r.left[:top]
		return false, nil
	}
	r.left[top]--
	return true, nil
}

func (r *mpReader) Key() (string, error) {
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

// jsonReader is a Tokens over jsontext. Strings and numbers keep
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

func (r *jsonReader) Peek() (Kind, error) {
	switch r.dec.PeekKind() {
	case 'n':
		return KindNull, nil
	case '"':
		return KindString, nil
	case '[':
		return KindArray, nil
	case '{':
		return KindObject, nil
	case 0:
		_, err := r.dec.ReadToken()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return 0, jsonErr(err)
	}
	return KindOther, nil
}

// quoted turns a raw JSON string into its value: verbatim when it has no
// escape and is valid UTF-8, through encoding/json otherwise. See
// Tokens.str for known and intern.
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

func (r *jsonReader) Str(known string, intern bool) (string, error) {
	raw, err := r.dec.ReadValue()
	if err != nil {
		return "", jsonErr(err)
	}
	return r.quoted(raw, known, intern)
}

func (r *jsonReader) Key() (string, error) {
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

func (r *jsonReader) Value() (any, error) {
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

func (r *jsonReader) EnterArray() (int, error) {
	if _, err := r.dec.ReadToken(); err != nil {
		return 0, jsonErr(err)
	}
	return 0, nil
}

func (r *jsonReader) EnterObject() (int, error) { return r.EnterArray() }

func (r *jsonReader) More() (bool, error) {
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

// End implements Tokens: nothing but whitespace may follow.
func (r *jsonReader) End() error {
	if _, err := r.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("trailing data")
		}
		return jsonErr(err)
	}
	return nil
}
