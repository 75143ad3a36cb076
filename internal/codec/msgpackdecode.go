package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// The msgpack type codes the decoder names (the fix ranges are tested
// inline).
const (
	mpNil      = 0xc0
	mpFalse    = 0xc2
	mpTrue     = 0xc3
	mpBin8     = 0xc4
	mpBin16    = 0xc5
	mpBin32    = 0xc6
	mpExt8     = 0xc7
	mpExt16    = 0xc8
	mpExt32    = 0xc9
	mpFloat    = 0xca
	mpDouble   = 0xcb
	mpUint8    = 0xcc
	mpUint16   = 0xcd
	mpUint32   = 0xce
	mpUint64   = 0xcf
	mpInt8     = 0xd0
	mpInt16    = 0xd1
	mpInt32    = 0xd2
	mpInt64    = 0xd3
	mpFixExt1  = 0xd4
	mpFixExt2  = 0xd5
	mpFixExt4  = 0xd6
	mpFixExt8  = 0xd7
	mpFixExt16 = 0xd8
	mpStr8     = 0xd9
	mpStr16    = 0xda
	mpStr32    = 0xdb
	mpArray16  = 0xdc
	mpArray32  = 0xdd
	mpMap16    = 0xde
	mpMap32    = 0xdf
)

// UnmarshalMsgpack decodes an untrusted msgpack payload into a normalized
// value tree in one pass. Every length header is checked against the bytes
// that remain before anything is allocated, nesting is bounded by MaxDepth
// and the total number of values by a budget (see decodeBudget).
func UnmarshalMsgpack(b []byte) (any, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxMessageSize)
	}
	d := mpDecoder{b: b, budget: decodeBudget}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if err := d.End(); err != nil {
		return nil, err
	}
	return v, nil
}

// smallNumbers holds the boxed float64 values of the fixints, 0..127 then
// -32..-1, so that decoding them allocates nothing.
var smallNumbers = func() (t [160]any) {
	for i := range 128 {
		t[i] = float64(i)
	}
	for i := range 32 {
		t[128+i] = float64(i - 32)
	}
	return
}()

// mpDecoder decodes msgpack the way notepack.io does, with the values a JSON
// client would get: numbers are float64 (NaN and Infinity become nil, as
// JSON.stringify writes them), bin is []byte, str is string, timestamps
// (extension -1) are ISO strings (nil for an invalid Date), arrays are []any
// and maps map[string]any with keys turned into property names. Other
// extensions are rejected.
//
// It decodes a whole tree (value) or, as the msgpack [Tokens], one value at
// a time; both count depth and values alike.
type mpDecoder struct {
	b      []byte
	off    int
	budget int
	left   []int // Tokens: entries left in each open container
	// intern shares repeated strings through strs (Tokens: the keys and
	// values that repeat from socket to socket in one answer).
	intern bool
	strs   internTable
}

func (d *mpDecoder) errEOF() error {
	return fmt.Errorf("%w: unexpected end of data at offset %d", ErrMalformed, d.off)
}

// take returns the next n bytes.
func (d *mpDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.off {
		return nil, d.errShort(n)
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p, nil
}

func (d *mpDecoder) errShort(n int) error {
	return fmt.Errorf("%w: length %d exceeds the %d remaining bytes", ErrMalformed, n, len(d.b)-d.off)
}

// length reads a big-endian length of size bytes.
func (d *mpDecoder) length(size int) (int, error) {
	p, err := d.take(size)
	if err != nil {
		return 0, d.errEOF()
	}
	var n uint64
	switch size {
	case 1:
		n = uint64(p[0])
	case 2:
		n = uint64(binary.BigEndian.Uint16(p))
	default:
		n = uint64(binary.BigEndian.Uint32(p))
	}
	// No length can exceed the payload (this also keeps int conversions
	// positive on 32-bit platforms).
	if n > uint64(len(d.b)) {
		return 0, fmt.Errorf("%w: length %d exceeds the %d remaining bytes", ErrMalformed, n, len(d.b)-d.off)
	}
	return int(n), nil
}

func (d *mpDecoder) spend(n int) error {
	d.budget -= n
	if d.budget < 0 {
		return errTooMany
	}
	return nil
}

func (d *mpDecoder) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, errTooDeep
	}
	if d.off >= len(d.b) {
		return nil, d.errEOF()
	}
	if err := d.spend(1); err != nil {
		return nil, err
	}
	c := d.b[d.off]
	d.off++
	switch {
	case c <= 0x7f: // positive fixint
		return smallNumbers[c], nil
	case c >= 0xe0: // negative fixint
		return smallNumbers[c-0xe0+0x80], nil
	case c <= 0x9f, c >= mpArray16 && c <= mpMap32:
		n, slots, err := d.container(c)
		if err != nil {
			return nil, err
		}
		if slots == 1 {
			return d.arrayOf(n, depth)
		}
		return d.mapOf(n, depth)
	case c <= 0xbf, c >= mpStr8 && c <= mpStr32:
		p, err := d.str(c)
		if err != nil {
			return nil, err
		}
		return string(p), nil
	}
	var n int
	var err error
	switch c {
	case mpNil:
		return nil, nil
	case mpFalse:
		return false, nil
	case mpTrue:
		return true, nil
	case mpBin8, mpBin16, mpBin32:
		if n, err = d.length(1 << (c - mpBin8)); err != nil {
			return nil, err
		}
		p, err := d.take(n)
		if err != nil {
			return nil, err
		}
		return bytes.Clone(p), nil
	case mpFloat:
		p, err := d.take(4)
		if err != nil {
			return nil, err
		}
		return jsonNumber(float64(math.Float32frombits(binary.BigEndian.Uint32(p)))), nil
	case mpDouble:
		p, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return jsonNumber(math.Float64frombits(binary.BigEndian.Uint64(p))), nil
	case mpUint8, mpInt8:
		p, err := d.take(1)
		if err != nil {
			return nil, err
		}
		if c == mpInt8 {
			return float64(int8(p[0])), nil
		}
		if p[0] <= 0x7f {
			return smallNumbers[p[0]], nil
		}
		return float64(p[0]), nil
	case mpUint16, mpInt16:
		p, err := d.take(2)
		if err != nil {
			return nil, err
		}
		if c == mpInt16 {
			return float64(int16(binary.BigEndian.Uint16(p))), nil
		}
		return float64(binary.BigEndian.Uint16(p)), nil
	case mpUint32, mpInt32:
		p, err := d.take(4)
		if err != nil {
			return nil, err
		}
		if c == mpInt32 {
			return float64(int32(binary.BigEndian.Uint32(p))), nil
		}
		return float64(binary.BigEndian.Uint32(p)), nil
	case mpUint64, mpInt64:
		p, err := d.take(8)
		if err != nil {
			return nil, err
		}
		if c == mpInt64 {
			return float64(int64(binary.BigEndian.Uint64(p))), nil
		}
		return float64(binary.BigEndian.Uint64(p)), nil
	case mpFixExt4:
		return d.ext(4)
	case mpFixExt8:
		return d.ext(8)
	case mpExt8, mpExt16, mpExt32:
		if n, err = d.length(1 << (c - mpExt8)); err != nil {
			return nil, err
		}
		return d.ext(n)
	case mpFixExt1, mpFixExt2, mpFixExt16:
		return nil, fmt.Errorf("%w: unsupported msgpack extension", ErrMalformed)
	}
	return nil, fmt.Errorf("%w: invalid msgpack code 0x%02x", ErrMalformed, c)
}

// str reads the bytes of the string whose code c (fixstr, str8/16/32) was
// just read.
func (d *mpDecoder) str(c byte) ([]byte, error) {
	n := int(c & 0x1f)
	if c >= mpStr8 {
		var err error
		if n, err = d.length(1 << (c - mpStr8)); err != nil {
			return nil, err
		}
	}
	return d.take(n)
}

// container reads the length of the array (slots 1) or map (slots 2: a key
// and a value) whose code c was just read, charges a map's weight to the
// budget, and rejects counts that the remaining bytes (at least one per
// slot) or the value budget cannot hold.
func (d *mpDecoder) container(c byte) (n, slots int, err error) {
	switch {
	case c <= 0x8f:
		n, slots = int(c&0x0f), 2
	case c <= 0x9f:
		n, slots = int(c&0x0f), 1
	case c <= mpArray32:
		slots = 1
		n, err = d.length(2 << (c - mpArray16))
	default:
		slots = 2
		n, err = d.length(2 << (c - mpMap16))
	}
	if err != nil {
		return 0, 0, err
	}
	if slots*n > len(d.b)-d.off {
		what := "elements"
		if slots == 2 {
			what = "entries"
		}
		return 0, 0, fmt.Errorf("%w: %d %s announced, %d bytes remain", ErrMalformed, n, what, len(d.b)-d.off)
	}
	if slots == 2 {
		if err := d.spend(mapCost); err != nil {
			return 0, 0, err
		}
	}
	if slots*n > d.budget {
		return 0, 0, errTooMany
	}
	return n, slots, nil
}

func (d *mpDecoder) arrayOf(n, depth int) (any, error) {
	a := make([]any, n)
	for i := range a {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a[i] = v
	}
	return a, nil
}

func (d *mpDecoder) mapOf(n, depth int) (any, error) {
	m := make(map[string]any, min(n, 1<<10))
	for range n {
		k, err := d.key(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

// key decodes a map key and turns it into a property name as JavaScript
// does. Keys are mostly short protocol names, which are not allocated.
func (d *mpDecoder) key(depth int) (string, error) {
	if d.off < len(d.b) {
		if c := d.b[d.off]; c >= 0xa0 && c <= 0xbf {
			if err := d.spend(1); err != nil {
				return "", err
			}
			d.off++
			p, err := d.take(int(c & 0x1f))
			if err != nil {
				return "", err
			}
			if k := protocolKey(p); k != "" {
				return k, nil
			}
			if d.intern {
				return d.strs.get(p), nil
			}
			return string(p), nil
		}
		switch d.b[d.off] {
		case mpFixExt4, mpFixExt8, mpExt8, mpExt16, mpExt32:
			return "", fmt.Errorf("%w: map key is an extension", ErrMalformed)
		case mpFloat, mpDouble:
			// NaN and Infinity keys keep their JavaScript names.
			size := 4
			if d.b[d.off] == mpDouble {
				size = 8
			}
			if err := d.spend(1); err != nil {
				return "", err
			}
			d.off++
			p, err := d.take(size)
			if err != nil {
				return "", err
			}
			if size == 4 {
				return FormatNumber(float64(math.Float32frombits(binary.BigEndian.Uint32(p)))), nil
			}
			return FormatNumber(math.Float64frombits(binary.BigEndian.Uint64(p))), nil
		}
	}
	k, err := d.value(depth)
	if err != nil {
		return "", err
	}
	return keyString(k)
}

// ext decodes an extension of n data bytes: only timestamps (-1) exist in
// the protocol.
func (d *mpDecoder) ext(n int) (any, error) {
	p, err := d.take(1)
	if err != nil {
		return nil, err
	}
	if typ := int8(p[0]); typ != -1 {
		return nil, fmt.Errorf("%w: unsupported msgpack extension %d", ErrMalformed, typ)
	}
	if n != 4 && n != 8 && n != 12 {
		return nil, fmt.Errorf("%w: timestamp of %d bytes", ErrMalformed, n)
	}
	if p, err = d.take(n); err != nil {
		return nil, err
	}
	switch n {
	case 4:
		return jsTimestamp(int64(binary.BigEndian.Uint32(p)), 0), nil
	case 8:
		v := binary.BigEndian.Uint64(p)
		return jsTimestamp(int64(v&(1<<34-1)), int64(v>>34)), nil
	default:
		return jsTimestamp(int64(binary.BigEndian.Uint64(p[4:])), int64(binary.BigEndian.Uint32(p))), nil
	}
}

// The msgpack Tokens: the same decoder, one value at a time.

// End implements Tokens: nothing may follow the top-level value.
func (d *mpDecoder) End() error {
	if d.off != len(d.b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.b)-d.off)
	}
	return nil
}

// Peek implements Tokens.
func (d *mpDecoder) Peek() (Kind, error) {
	if d.off >= len(d.b) {
		return 0, d.errEOF()
	}
	switch c := d.b[d.off]; {
	case c >= 0x80 && c <= 0x8f, c == mpMap16, c == mpMap32:
		return KindObject, nil
	case c >= 0x90 && c <= 0x9f, c == mpArray16, c == mpArray32:
		return KindArray, nil
	case c >= 0xa0 && c <= 0xbf, c >= mpStr8 && c <= mpStr32:
		return KindString, nil
	case c == mpNil:
		return KindNull, nil
	}
	return KindOther, nil
}

// token starts a string or container Peek announced: it checks the depth,
// charges the value and returns its code.
func (d *mpDecoder) token() (byte, error) {
	if len(d.left) > MaxDepth {
		return 0, errTooDeep
	}
	if err := d.spend(1); err != nil {
		return 0, err
	}
	c := d.b[d.off]
	d.off++
	return c, nil
}

// Str implements Tokens.
func (d *mpDecoder) Str(known string, intern bool) (string, error) {
	c, err := d.token()
	if err != nil {
		return "", err
	}
	p, err := d.str(c)
	if err != nil {
		return "", err
	}
	switch {
	case string(p) == known:
		return known, nil
	case intern:
		return d.strs.get(p), nil
	}
	return string(p), nil
}

// Value implements Tokens.
func (d *mpDecoder) Value() (any, error) { return d.value(len(d.left)) }

// EnterArray implements Tokens.
func (d *mpDecoder) EnterArray() (int, error) { return d.enter() }

// EnterObject implements Tokens.
func (d *mpDecoder) EnterObject() (int, error) { return d.enter() }

func (d *mpDecoder) enter() (int, error) {
	c, err := d.token()
	if err != nil {
		return 0, err
	}
	n, _, err := d.container(c)
	if err != nil {
		return 0, err
	}
	d.left = append(d.left, n)
	return n, nil
}

// More implements Tokens.
func (d *mpDecoder) More() (bool, error) {
	top := len(d.left) - 1
	if d.left[top] == 0 {
		d.left = d.left[:top]
		return false, nil
	}
	d.left[top]--
	return true, nil
}

// Key implements Tokens.
func (d *mpDecoder) Key() (string, error) { return d.key(len(d.left)) }
