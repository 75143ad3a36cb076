package codec

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// ToWire deep-converts a user value into the value tree the encoders write:
// nil, bool, string, float64 and every integer kind, []byte, time.Time,
// []any and map[string]any. Readers become []byte (string for
// *strings.Reader), other Go values (structs, typed slices and maps) go
// through encoding/json so that remote clients see exactly what a local
// client would. The input is not modified; containers are copied only when
// something inside them changes. A value tree ToWire returned converts to
// itself.
func ToWire(v any) (any, error) {
	return ToWireWith(v, nil)
}

// ValueConverter converts the values of one Socket.IO implementation that
// ToWire does not know (engine.io buffers, for instance) into wire values.
// It reports false for values it leaves to ToWire.
type ValueConverter func(v any) (w any, ok bool, err error)

// ToWireWith is [ToWire] with conv consulted first at every level of the
// tree: bindings pass the converter of their Socket.IO types, so that the
// codec itself depends on none.
func ToWireWith(v any, conv ValueConverter) (any, error) {
	out, _, err := toWire(v, 0, conv)
	return out, err
}

func toWire(v any, depth int, conv ValueConverter) (any, bool, error) {
	if depth > MaxDepth {
		return nil, false, fmt.Errorf("%w: nested deeper than %d", ErrUnsupportedValue, MaxDepth)
	}
	if conv != nil {
		switch v.(type) {
		case nil, bool, string, []byte, float64, []any, map[string]any:
		default:
			w, ok, err := conv(v)
			if err != nil {
				return nil, false, err
			}
			if ok {
				return w, true, nil
			}
		}
	}
	switch x := v.(type) {
	case nil, bool, string, []byte, time.Time,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return v, false, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false, fmt.Errorf("%w: %v", ErrUnsupportedValue, x)
		}
		return v, false, nil
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false, fmt.Errorf("%w: %v", ErrUnsupportedValue, x)
		}
		return f, true, nil
	case []any:
		var out []any
		for i, e := range x {
			w, changed, err := toWire(e, depth+1, conv)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = make([]any, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = w
			}
		}
		if out == nil {
			return x, false, nil
		}
		return out, true, nil
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			w, changed, err := toWire(e, depth+1, conv)
			if err != nil {
				return nil, false, err
			}
			if changed && out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = w
			}
		}
		if out == nil {
			return x, false, nil
		}
		return out, true, nil
	case *strings.Reader:
		if x == nil {
			return nil, true, nil
		}
		b, err := io.ReadAll(x)
		if err != nil {
			return nil, false, fmt.Errorf("sioredis: reading argument: %w", err)
		}
		return string(b), true, nil
	case io.Reader:
		if isNilPointer(x) {
			return nil, true, nil
		}
		b, err := io.ReadAll(x)
		if err != nil {
			return nil, false, fmt.Errorf("sioredis: reading argument: %w", err)
		}
		if c, ok := x.(io.Closer); ok {
			_ = c.Close()
		}
		return b, true, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil, false, fmt.Errorf("%w: %v", ErrUnsupportedValue, err)
		}
		return f, true, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return nil, false, fmt.Errorf("%w: %T", ErrUnsupportedValue, v)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			if _, ok := v.(json.Marshaler); !ok {
				return nil, false, fmt.Errorf("%w: map with %s keys", ErrUnsupportedValue, rv.Type().Key())
			}
		}
	}
	// Structs, typed slices and maps, named scalar types: encode them the way
	// socket.io encodes arguments for local clients (encoding/json with the
	// json tags), then continue from the generic tree.
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %T: %v", ErrUnsupportedValue, v, err)
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, false, fmt.Errorf("%w: %T: %v", ErrUnsupportedValue, v, err)
	}
	return generic, true, nil
}

// isNilPointer reports a nil pointer (or map, slice...) inside an interface.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// HasBinary reports whether a wire value tree (as returned by [ToWire])
// contains []byte anywhere, which decides between JSON and msgpack where both
// are allowed.
func HasBinary(v any) bool {
	switch x := v.(type) {
	case []byte:
		return true
	case []any:
		for _, e := range x {
			if HasBinary(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if HasBinary(e) {
				return true
			}
		}
	case Object:
		for _, m := range x {
			if HasBinary(m.Value) {
				return true
			}
		}
	case []Object:
		for _, o := range x {
			if HasBinary(o) {
				return true
			}
		}
	}
	return false
}

// jsonNumber returns a decoded number as a JSON client would see it:
// JSON.stringify writes NaN and Infinity as null.
func jsonNumber(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

// FormatNumber formats a number as JavaScript's String(n) does (decimal
// between 1e-6 and 1e21, exponent form "1e+21" / "1e-7" outside, "0" for
// -0). It names map keys and rooms that arrive as numbers.
func FormatNumber(f float64) string {
	switch {
	case f == 0:
		return "0"
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if abs := math.Abs(f); abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e-07, 1.5e+21
	i := strings.IndexByte(s, 'e')
	exp := strings.TrimLeft(s[i+2:], "0")
	return s[:i+2] + exp
}

// maxJSDate is the largest magnitude of a JavaScript Date in milliseconds.
const maxJSDate = 8.64e15

// jsTimestamp turns a msgpack timestamp into what a JSON client gets for
// the Date notepack.io decodes it into: the ISO string of
// new Date(sec*1e3 + nsec/1e6) (milliseconds truncated toward zero), or nil
// for an invalid Date.
func jsTimestamp(sec, nsec int64) any {
	ms := float64(sec)*1e3 + float64(nsec)/1e6
	if math.IsNaN(ms) || math.Abs(ms) > maxJSDate {
		return nil
	}
	t := time.UnixMilli(int64(ms)).UTC()
	year := t.Year()
	rest := t.Format("-01-02T15:04:05.000Z")
	if year >= 0 && year <= 9999 {
		return fmt.Sprintf("%04d%s", year, rest)
	}
	if year < 0 {
		return fmt.Sprintf("-%06d%s", -year, rest)
	}
	return fmt.Sprintf("+%06d%s", year, rest)
}

// keyString turns a decoded msgpack map key into a property name the way
// JavaScript does.
func keyString(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "null", nil
	case float64:
		return FormatNumber(x), nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("%w: map key is %s", ErrMalformed, TypeName(k))
}

// TypeName describes a decoded value for error messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case []byte:
		return "binary"
	}
	return fmt.Sprintf("%T", v)
}
