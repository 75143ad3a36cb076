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
	n, off := 0, 1
	switch c := b[0]; {
	case c >= 0x80 && c <= 0x8f:
		n = int(c & 0x0f)
	case c == 0xde && len(b) >= 3:
		n, off = int(binary.BigEndian.Uint16(b[1:])), 3
	default:
		return "", false
	}
	for i := 0; i < n && i < within; i++ {
		k, next, ok := peekStr(b, off)
		if !ok {
			return "", false
		}
		if k == key {
			v, _, ok := peekStr(b, next)
			return v, ok
		}
		// Skip a scalar value (the type, a count); anything else ends the
		// peek.
		if next >= len(b) {
			return "", false
		}
		switch c := b[next]; {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
			off = next + 1
		case c == 0xcc || c == 0xd0:
			off = next + 2
		case c == 0xcd || c == 0xd1:
			off = next + 3
		case c == 0xce || c == 0xd2:
			off = next + 5
		default:
			if _, after, ok := peekStr(b, next); ok {
				off = after
				continue
			}
			return "", false
		}
	}
	return "", false
}

// peekStr reads a msgpack string at off.
func peekStr(b []byte, off int) (s string, next int, ok bool) {
	if off >= len(b) {
		return "", 0, false
	}
	c := b[off]
	var n int
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, off = int(c&0x1f), off+1
	case c == 0xd9 && off+1 < len(b):
		n, off = int(b[off+1]), off+2
	case c == 0xda && off+2 < len(b):
		n, off = int(binary.BigEndian.Uint16(b[off+1:])), off+3
	default:
		return "", 0, false
	}
	if n > len(b)-off {
		return "", 0, false
	}
	return string(b[off : off+n]), off + n, true
}
