package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// MaxMessageSize is the largest payload a decoder accepts (16 MiB). Bigger
// messages are rejected before any parsing: pub/sub payloads of Socket.IO
// events are small, and every decoded byte can cost up to 16 bytes of Go
// memory.
const MaxMessageSize = 16 << 20

// MaxDepth bounds the nesting of arrays and maps in a decoded message and in
// a value being encoded.
const MaxDepth = 100

// ErrMalformed is wrapped by every decoding error: the payload is not a
// message of the expected shape.
var ErrMalformed = errors.New("sioredis: malformed message")

var encPool = sync.Pool{New: func() any {
	buf := new(bytes.Buffer)
	enc := msgpack.NewEncoder(buf)
	configureEncoder(enc)
	return &pooledEncoder{buf: buf, enc: enc}
}}

type pooledEncoder struct {
	buf *bytes.Buffer
	enc *msgpack.Encoder
}

// configureEncoder makes vmihailenco/msgpack write what notepack.io writes:
// the smallest integer form, integral floats as integers, float64 otherwise,
// and Go structs with their json tags.
func configureEncoder(enc *msgpack.Encoder) {
	enc.UseCompactInts(true)
	enc.UseCompactFloats(true)
	enc.SetCustomStructTag("json")
	enc.SetOmitEmpty(false)
}

// marshalMsgpack encodes a wire value tree.
func marshalMsgpack(v any) ([]byte, error) {
	pe := encPool.Get().(*pooledEncoder)
	pe.buf.Reset()
	err := pe.enc.Encode(v)
	var out []byte
	if err == nil {
		out = bytes.Clone(pe.buf.Bytes())
	}
	if pe.buf.Cap() <= 64<<10 {
		encPool.Put(pe)
	}
	if err != nil {
		return nil, fmt.Errorf("sioredis: msgpack encode: %w", err)
	}
	return out, nil
}

// unmarshalMsgpack decodes an untrusted msgpack payload into a normalized
// value tree. It validates the structure first so that the library never
// sees a length header larger than the bytes that remain.
func unmarshalMsgpack(b []byte) (any, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxMessageSize)
	}
	n, err := validateMsgpack(b, 0, 0)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-n)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	dec.SetMapDecoder(decodeMap)
	v, err := dec.DecodeInterface()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return normalize(v), nil
}

// decodeMap decodes a map of any key type into map[string]any, converting
// keys the way JavaScript turns them into property names.
func decodeMap(d *msgpack.Decoder) (any, error) {
	n, err := d.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil
	}
	m := make(map[string]any, n)
	for i := 0; i < n; i++ {
		k, err := d.DecodeInterface()
		if err != nil {
			return nil, err
		}
		ks, err := keyString(k)
		if err != nil {
			return nil, err
		}
		v, err := d.DecodeInterface()
		if err != nil {
			return nil, err
		}
		m[ks] = v
	}
	return m, nil
}

// validateMsgpack walks one msgpack object starting at off and returns the
// offset just past it. It rejects truncated data, length headers that claim
// more elements or bytes than remain, nesting deeper than MaxDepth and
// extension types other than the timestamp (-1).
func validateMsgpack(b []byte, off, depth int) (int, error) {
	if depth > MaxDepth {
		return 0, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
	}
	if off >= len(b) {
		return 0, fmt.Errorf("%w: unexpected end of data", ErrMalformed)
	}
	c := b[off]
	off++
	need := func(n int) (int, error) {
		if n < 0 || n > len(b)-off {
			return 0, fmt.Errorf("%w: length %d exceeds the %d remaining bytes", ErrMalformed, n, len(b)-off)
		}
		return off + n, nil
	}
	readLen := func(size int) (int, error) {
		if size > len(b)-off {
			return 0, fmt.Errorf("%w: unexpected end of data", ErrMalformed)
		}
		var n uint64
		switch size {
		case 1:
			n = uint64(b[off])
		case 2:
			n = uint64(binary.BigEndian.Uint16(b[off:]))
		case 4:
			n = uint64(binary.BigEndian.Uint32(b[off:]))
		}
		off += size
		if n > uint64(len(b)) {
			return 0, fmt.Errorf("%w: length %d exceeds the %d remaining bytes", ErrMalformed, n, len(b)-off)
		}
		return int(n), nil
	}
	container := func(elems int) (int, error) {
		// Every element takes at least one byte.
		if elems > len(b)-off {
			return 0, fmt.Errorf("%w: %d elements announced, %d bytes remain", ErrMalformed, elems, len(b)-off)
		}
		var err error
		for i := 0; i < elems; i++ {
			if off, err = validateMsgpack(b, off, depth+1); err != nil {
				return 0, err
			}
		}
		return off, nil
	}
	ext := func(n int) (int, error) {
		if n+1 > len(b)-off {
			return 0, fmt.Errorf("%w: unexpected end of data", ErrMalformed)
		}
		typ := int8(b[off])
		if typ != -1 {
			return 0, fmt.Errorf("%w: unsupported msgpack extension %d", ErrMalformed, typ)
		}
		switch n {
		case 4, 8, 12:
		default:
			return 0, fmt.Errorf("%w: timestamp of %d bytes", ErrMalformed, n)
		}
		return off + 1 + n, nil
	}
	switch {
	case msgpcode.IsFixedNum(c), c == msgpcode.Nil, c == msgpcode.True, c == msgpcode.False:
		return off, nil
	case msgpcode.IsFixedString(c):
		return need(int(c & msgpcode.FixedStrMask))
	case msgpcode.IsFixedArray(c):
		return container(int(c & msgpcode.FixedArrayMask))
	case msgpcode.IsFixedMap(c):
		return container(2 * int(c&msgpcode.FixedMapMask))
	}
	switch c {
	case msgpcode.Uint8, msgpcode.Int8:
		return need(1)
	case msgpcode.Uint16, msgpcode.Int16:
		return need(2)
	case msgpcode.Uint32, msgpcode.Int32, msgpcode.Float:
		return need(4)
	case msgpcode.Uint64, msgpcode.Int64, msgpcode.Double:
		return need(8)
	case msgpcode.Str8, msgpcode.Bin8:
		n, err := readLen(1)
		if err != nil {
			return 0, err
		}
		return need(n)
	case msgpcode.Str16, msgpcode.Bin16:
		n, err := readLen(2)
		if err != nil {
			return 0, err
		}
		return need(n)
	case msgpcode.Str32, msgpcode.Bin32:
		n, err := readLen(4)
		if err != nil {
			return 0, err
		}
		return need(n)
	case msgpcode.Array16:
		n, err := readLen(2)
		if err != nil {
			return 0, err
		}
		return container(n)
	case msgpcode.Array32:
		n, err := readLen(4)
		if err != nil {
			return 0, err
		}
		return container(n)
	case msgpcode.Map16:
		n, err := readLen(2)
		if err != nil {
			return 0, err
		}
		return container(2 * n)
	case msgpcode.Map32:
		n, err := readLen(4)
		if err != nil {
			return 0, err
		}
		return container(2 * n)
	case msgpcode.FixExt4:
		return ext(4)
	case msgpcode.FixExt8:
		return ext(8)
	case msgpcode.FixExt1, msgpcode.FixExt2, msgpcode.FixExt16:
		return 0, fmt.Errorf("%w: unsupported msgpack extension", ErrMalformed)
	case msgpcode.Ext8:
		n, err := readLen(1)
		if err != nil {
			return 0, err
		}
		return ext(n)
	case msgpcode.Ext16:
		n, err := readLen(2)
		if err != nil {
			return 0, err
		}
		return ext(n)
	case msgpcode.Ext32:
		n, err := readLen(4)
		if err != nil {
			return 0, err
		}
		return ext(n)
	}
	return 0, fmt.Errorf("%w: invalid msgpack code 0x%02x", ErrMalformed, c)
}
