package protocol

import (
	"fmt"
	"math"

	"github.com/sioredis/sioredis/internal/codec"
)

// Helpers that read fields of a decoded (normalized) tree with strict type
// checks. A missing optional field is not an error; a field of the wrong type
// is.

func asMap(v any, what string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is %s, want an object", codec.ErrMalformed, what, codec.TypeName(v))
	}
	return m, nil
}

func asArray(v any, what string) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is %s, want an array", codec.ErrMalformed, what, codec.TypeName(v))
	}
	return a, nil
}

func optString(m map[string]any, key string) (string, bool, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, fmt.Errorf("%w: %q is %s, want a string", codec.ErrMalformed, key, codec.TypeName(v))
	}
	return s, true, nil
}

// optRequestID reads a request id. Node tests "ack wanted" with
// requestId !== undefined, so an explicit null still counts as present.
func optRequestID(m map[string]any) (id string, present bool, err error) {
	v, ok := m["requestId"]
	if !ok {
		return "", false, nil
	}
	switch x := v.(type) {
	case nil:
		return "", true, nil
	case string:
		return x, true, nil
	case float64:
		return codec.FormatNumber(x), true, nil
	}
	return "", false, fmt.Errorf("%w: requestId is %s", codec.ErrMalformed, codec.TypeName(v))
}

func optBool(m map[string]any, key string) (bool, error) {
	return boolValue(m[key], key)
}

// boolValue checks the value of field key: a boolean, or null.
func boolValue(v any, key string) (bool, error) {
	if v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%w: %q is %s, want a boolean", codec.ErrMalformed, key, codec.TypeName(v))
	}
	return b, nil
}

func optInt(m map[string]any, key string) (int64, bool, error) {
	return intValue(m[key], key)
}

// intValue checks the value of field key: a whole number, or null.
func intValue(v any, key string) (int64, bool, error) {
	if v == nil {
		return 0, false, nil
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false, fmt.Errorf("%w: %q is %s, want an integer", codec.ErrMalformed, key, codec.TypeName(v))
	}
	return int64(f), true, nil
}

// optStrings reads an array of room names. Numbers are accepted and turned
// into their decimal form, as JavaScript does with numeric room keys.
func optStrings(m map[string]any, key string) ([]string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %q is %s, want an array", codec.ErrMalformed, key, codec.TypeName(v))
	}
	out := make([]string, 0, len(a))
	for _, e := range a {
		switch x := e.(type) {
		case string:
			out = append(out, x)
		case float64:
			out = append(out, codec.FormatNumber(x))
		default:
			return nil, fmt.Errorf("%w: %q holds %s, want strings", codec.ErrMalformed, key, codec.TypeName(e))
		}
	}
	return out, nil
}

// stringsToAny converts room lists for encoding; nil becomes an empty array
// because Node reads these fields unconditionally.
func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}
