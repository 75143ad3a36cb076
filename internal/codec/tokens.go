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
	return &mpDecoder{b: payload, budget: decodeBudget, left: make([]int, 0, 8), intern: true}, nil
}

// jsonReader is a Tokens over jsontext. Strings and numbers keep
// encoding/json's semantics (invalid UTF-8 and lone surrogates become
// U+FFFD, numbers are float64); NewTokens has bounded depth and size with
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
