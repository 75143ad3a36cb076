package codec

// The decoder this package shipped with first: a structural validation pass,
// then vmihailenco/msgpack's generic decoder, then a normalization pass. It
// is kept here as an independent oracle for the single-pass decoder
// (FuzzMsgpackDecoder), with the normalization
// updated to the current rules (NaN and Infinity become nil, timestamps and
// numeric keys are formatted as JavaScript does).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// oracleTimestamp keeps the raw fields of a timestamp: notepack.io computes
// the Date from them without normalizing the nanoseconds first, as
// time.Unix would.
type oracleTimestamp struct{ sec, nsec int64 }

func init() {
	// Replaces vmihailenco's time.Time decoder for extension -1 in this test
	// binary only; the package itself no longer decodes with vmihailenco.
	msgpack.RegisterExtDecoder(-1, oracleTimestamp{}, func(d *msgpack.Decoder, v reflect.Value, n int) error {
		b := make([]byte, n)
		if err := d.ReadFull(b); err != nil {
			return err
		}
		var ts oracleTimestamp
		switch n {
		case 4:
			ts.sec = int64(binary.BigEndian.Uint32(b))
		case 8:
			x := binary.BigEndian.Uint64(b)
			ts.sec, ts.nsec = int64(x&(1<<34-1)), int64(x>>34)
		case 12:
			ts.nsec = int64(binary.BigEndian.Uint32(b))
			ts.sec = int64(binary.BigEndian.Uint64(b[4:]))
		default:
			return fmt.Errorf("timestamp of %d bytes", n)
		}
		v.Set(reflect.ValueOf(ts))
		return nil
	})
}

// oracleUnmarshalMsgpack decodes an untrusted msgpack payload into a normalized
// value tree. It validates the structure first so that the library never
// sees a length header larger than the bytes that remain.
func oracleUnmarshalMsgpack(b []byte) (any, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxMessageSize)
	}
	n, err := oracleValidate(b, 0, 0)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-n)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	dec.SetMapDecoder(oracleDecodeMap)
	v, err := dec.DecodeInterface()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return oracleNormalize(v), nil
}

// oracleDecodeMap decodes a map of any key type into map[string]any, converting
// keys the way JavaScript turns them into property names.
func oracleDecodeMap(d *msgpack.Decoder) (any, error) {
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
		ks, err := oracleKeyString(k)
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

// oracleValidate walks one msgpack object starting at off and returns the
// offset just past it. It rejects truncated data, length headers that claim
// more elements or bytes than remain, nesting deeper than MaxDepth and
// extension types other than the timestamp (-1).
func oracleValidate(b []byte, off, depth int) (int, error) {
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
			if off, err = oracleValidate(b, off, depth+1); err != nil {
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

// oracleNormalize turns a freshly decoded tree into what a JSON client would give:
// every number becomes float64, timestamps become ISO strings.
func oracleNormalize(v any) any {
	switch x := v.(type) {
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case int:
		return float64(x)
	case uint:
		return float64(x)
	case float32:
		return oracleNormalize(float64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case oracleTimestamp:
		return jsTimestamp(x.sec, x.nsec)
	case []any:
		for i, e := range x {
			x[i] = oracleNormalize(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = oracleNormalize(e)
		}
	}
	return v
}

// oracleKeyString turns a decoded msgpack map key into a property name the way
// JavaScript does.
func oracleKeyString(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "null", nil
	case float32:
		return FormatNumber(float64(x)), nil
	case float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		f, _ := strconv.ParseFloat(fmt.Sprint(x), 64)
		return FormatNumber(f), nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("%w: map key of type %T", ErrMalformed, k)
}
