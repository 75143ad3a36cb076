package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	eiotypes "github.com/zishang520/engine.io/v2/types"
)

// ErrUnsupportedValue reports a user value that cannot be put on the wire
// (a function, a channel, a map with non-string keys, NaN...).
var ErrUnsupportedValue = errors.New("sioredis: value cannot be encoded")

// ToWire deep-converts a user value into the value tree the encoders write:
// nil, bool, string, float64 and every integer kind, []byte, time.Time,
// []any and map[string]any. Readers and engine.io buffers become []byte
// (string for *StringBuffer and *strings.Reader), other Go values (structs,
// typed slices and maps) go through encoding/json so that remote clients see
// exactly what a local client would. The input is not modified; containers
// are copied only when something inside them changes.
func ToWire(v any) (any, error) {
	out, _, err := toWire(v, 0)
	return out, err
}

func toWire(v any, depth int) (any, bool, error) {
	if depth > MaxDepth {
		return nil, false, fmt.Errorf("%w: nested deeper than %d", ErrUnsupportedValue, MaxDepth)
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
			w, changed, err := toWire(e, depth+1)
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
			w, changed, err := toWire(e, depth+1)
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
	case *eiotypes.StringBuffer:
		if x == nil || x.Buffer == nil {
			return nil, true, nil
		}
		return x.String(), true, nil
	case eiotypes.BufferInterface:
		if reflect.ValueOf(x).IsNil() {
			return nil, true, nil
		}
		return append([]byte(nil), x.Bytes()...), true, nil
	case *strings.Reader:
		b, err := io.ReadAll(x)
		if err != nil {
			return nil, false, fmt.Errorf("sioredis: reading argument: %w", err)
		}
		return string(b), true, nil
	case io.Reader:
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
	case obj:
		for _, kv := range x {
			if HasBinary(kv.v) {
				return true
			}
		}
	case []obj:
		for _, o := range x {
			if HasBinary(o) {
				return true
			}
		}
	}
	return false
}

// normalize turns a freshly decoded tree into what a JSON client would give:
// every number becomes float64, timestamps become ISO strings.
func normalize(v any) any {
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
		return float64(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	}
	return v
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
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		return fmt.Sprint(x), nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("%w: map key of type %T", ErrMalformed, k)
}
