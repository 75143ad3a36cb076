package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"time"
)

// RawMsgpack is an already encoded msgpack value, written verbatim (a
// handshake encoded once per socket, for instance).
type RawMsgpack []byte

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// MarshalMsgpack encodes a wire value tree (see the package documentation).
func MarshalMsgpack(v any) ([]byte, error) {
	bp := bufPool.Get().(*[]byte)
	b, err := appendMsgpack((*bp)[:0], v, 0)
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		bufPool.Put(bp)
	}
	if err != nil {
		return nil, fmt.Errorf("sioredis: msgpack encode: %w", err)
	}
	return out, nil
}

// appendMsgpack writes a wire tree in one pass, byte for byte as
// notepack.io writes the same JavaScript values: smallest integer forms,
// integral numbers as integers, float64 otherwise, fixstr/str8/16/32,
// bin8/16/32, timestamps as extension -1. Keys of Object keep their order;
// keys of map[string]any come in Go's map order. Values of other types
// (structs, typed slices) are normalised by ToWire first, as user values
// are.
func appendMsgpack(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return nil, errEncodeDepth
	}
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, 0xc0), nil
	case bool:
		if x {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case string:
		return AppendMsgpackString(b, x), nil
	case []byte:
		if x == nil {
			return append(b, 0xc0), nil
		}
		return appendMsgpackBin(b, x), nil
	case float64:
		return appendMsgpackNumber(b, x), nil
	case float32:
		return appendMsgpackNumber(b, float64(x)), nil
	case int:
		return AppendMsgpackInt(b, int64(x)), nil
	case int8:
		return AppendMsgpackInt(b, int64(x)), nil
	case int16:
		return AppendMsgpackInt(b, int64(x)), nil
	case int32:
		return AppendMsgpackInt(b, int64(x)), nil
	case int64:
		return AppendMsgpackInt(b, x), nil
	case uint:
		return appendMsgpackUint(b, uint64(x)), nil
	case uint8:
		return appendMsgpackUint(b, uint64(x)), nil
	case uint16:
		return appendMsgpackUint(b, uint64(x)), nil
	case uint32:
		return appendMsgpackUint(b, uint64(x)), nil
	case uint64:
		return appendMsgpackUint(b, x), nil
	case time.Time:
		return appendMsgpackTime(b, x), nil
	case RawMsgpack:
		return append(b, x...), nil
	case Object:
		b = appendMsgpackHeader(b, len(x), 0x80, 0xde)
		for _, e := range x {
			b = AppendMsgpackString(b, e.Key)
			if b, err = appendMsgpack(b, e.Value, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []Object:
		b = appendMsgpackHeader(b, len(x), 0x90, 0xdc)
		for _, e := range x {
			if b, err = appendMsgpack(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []any:
		if x == nil {
			return append(b, 0xc0), nil
		}
		b = appendMsgpackHeader(b, len(x), 0x90, 0xdc)
		for _, e := range x {
			if b, err = appendMsgpack(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		if x == nil {
			return append(b, 0xc0), nil
		}
		b = appendMsgpackHeader(b, len(x), 0x80, 0xde)
		for k, e := range x {
			b = AppendMsgpackString(b, k)
			if b, err = appendMsgpack(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return appendMsgpackOther(b, v, depth)
}

// appendMsgpackHeader writes an array (fix 0x90, 16-bit 0xdc) or map (fix
// 0x80, 16-bit 0xde) header; the 32-bit codes follow the 16-bit ones.
func appendMsgpackHeader(b []byte, n int, fix, code16 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, code16), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, code16+1), uint32(n))
	}
}

// AppendMsgpackString appends s in the smallest string form.
func AppendMsgpackString(b []byte, s string) []byte {
	n := len(s)
	switch {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func appendMsgpackBin(b []byte, p []byte) []byte {
	n := len(p)
	switch {
	case n <= math.MaxUint8:
		b = append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
	}
	return append(b, p...)
}

// appendMsgpackNumber writes a JavaScript number as notepack.io does: an
// integer form when it is integral and fits in 64 bits, float64 otherwise
// (NaN and Infinity included).
func appendMsgpackNumber(b []byte, f float64) []byte {
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		switch {
		case f >= 0 && f < 1<<64:
			return appendMsgpackUint(b, uint64(f))
		case f < 0 && f >= -(1<<63):
			return AppendMsgpackInt(b, int64(f))
		}
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f))
}

func appendMsgpackUint(b []byte, n uint64) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n <= math.MaxUint8:
		return append(b, 0xcc, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), n)
	}
}

// AppendMsgpackInt appends n in the smallest integer form.
func AppendMsgpackInt(b []byte, n int64) []byte {
	switch {
	case n >= 0:
		return appendMsgpackUint(b, uint64(n))
	case n >= -32:
		return append(b, byte(n))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
	}
}

// appendMsgpackTime writes the timestamp extension (-1) in its smallest
// form, as notepack.io does for a Date.
func appendMsgpackTime(b []byte, t time.Time) []byte {
	sec, nsec := t.Unix(), uint64(t.Nanosecond())
	if uint64(sec)>>34 == 0 {
		data := nsec<<34 | uint64(sec)
		if data>>32 == 0 {
			return binary.BigEndian.AppendUint32(append(b, 0xd6, 0xff), uint32(data))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xd7, 0xff), data)
	}
	b = binary.BigEndian.AppendUint32(append(b, 0xc7, 12, 0xff), uint32(nsec))
	return binary.BigEndian.AppendUint64(b, uint64(sec))
}

// appendMsgpackOther encodes a value outside wire trees (a struct, a typed
// slice or map) as ToWire normalises it: what a JSON client would get.
func appendMsgpackOther(b []byte, v any, depth int) ([]byte, error) {
	w, err := ToWire(v)
	if err != nil {
		return nil, err
	}
	return appendMsgpack(b, w, depth+1)
}
