package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
)

// PeekString reads the string value of key in the object a msgpack or JSON
// payload holds, without decoding the rest of it: a server drops the
// answers meant for other servers at a fraction of the cost of a full
// decode. It only looks at the first within keys, and only past
// scalar-valued ones; ok is false when it cannot tell, and the caller then
// decodes the message in full.
func PeekString(payload []byte, key string, within int) (s string, ok bool) {
	if len(payload) == 0 {
		return "", false
	}
	if payload[0] == '{' {
		return peekJSON(payload, key, within)
	}
	return peekMsgpack(payload, key, within)
}

func peekJSON(payload []byte, key string, within int) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	for i := 0; i < within && dec.More(); i++ {
		k, err := dec.Token()
		if err != nil {
			return "", false
		}
		v, err := dec.Token()
		if err != nil {
			return "", false
		}
		if _, isDelim := v.(json.Delim); isDelim {
			return "", false
		}
		if k == key {
			s, isString := v.(string)
			return s, isString
		}
	}
	return "", false
}

func peekMsgpack(b []byte, key string, within int) (string, bool) {
	// The map header is read by hand: b may be a prefix of the message,
	// whose counts the decoder would reject.
	n, off := 0, 1
	switch c := b[0]; {
	case c >= 0x80 && c <= 0x8f:
		n = int(c & 0x0f)
	case c == mpMap16 && len(b) >= 3:
		n, off = int(binary.BigEndian.Uint16(b[1:])), 3
	default:
		return "", false
	}
	d := mpDecoder{b: b, off: off, budget: decodeBudget}
	for i := 0; i < n && i < within; i++ {
		k, ok := d.peekStr()
		if !ok {
			return "", false
		}
		if string(k) == key {
			v, ok := d.peekStr()
			return string(v), ok
		}
		// Skip a scalar value (the type, a count); anything else ends the
		// peek.
		switch kind, err := d.Peek(); {
		case err != nil:
			return "", false
		case kind == KindString:
			if _, ok := d.peekStr(); !ok {
				return "", false
			}
		case kind == KindOther, kind == KindNull:
			if _, err := d.value(0); err != nil {
				return "", false
			}
		default:
			return "", false
		}
	}
	return "", false
}

// peekStr reads a string; false when the next value is not one.
func (d *mpDecoder) peekStr() ([]byte, bool) {
	if k, err := d.Peek(); err != nil || k != KindString {
		return nil, false
	}
	c := d.b[d.off]
	d.off++
	p, err := d.str(c)
	return p, err == nil
}
