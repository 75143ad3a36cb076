package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON encodes a wire value tree as JSON the way JSON.stringify does
// (no HTML escaping, -0 written as 0). The value kinds of wire trees are
// written directly, in one pass; anything else (time.Time, []byte, structs)
// goes through encoding/json. The output is otherwise byte for byte what
// encoding/json writes.
func MarshalJSON(v any) ([]byte, error) {
	return appendJSON(make([]byte, 0, 256), v, 0)
}

func appendJSON(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxEncodeDepth {
		return nil, errEncodeDepth
	}
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return AppendJSONString(b, x), nil
	case float64:
		return appendJSONFloat(b, x, 64)
	case float32:
		return appendJSONFloat(b, float64(x), 32)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case RawMsgpack:
		return nil, errors.New("sioredis: msgpack value in a JSON message")
	case Object:
		b = append(b, '{')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, e.Key)
			b = append(b, ':')
			if b, err = appendJSON(b, e.Value, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []Object:
		return appendJSONArray(b, x, depth)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		return appendJSONArray(b, x, depth)
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		// encoding/json sorts map keys.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, k)
			b = append(b, ':')
			if b, err = appendJSON(b, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	// Other Go values: encoding/json, without HTML escaping.
	out, err := marshalJSONValue(v)
	if err != nil {
		return nil, err
	}
	return append(b, out...), nil
}

// appendJSONFloat writes a number as encoding/json and JSON.stringify do:
// decimal between 1e-6 and 1e21, exponent form outside. NaN and Infinity
// are errors (JSON has no form for them).
func appendJSONFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedValue, f)
	}
	if f == 0 {
		return append(b, '0'), nil // JSON.stringify(-0) is "0"
	}
	abs := math.Abs(f)
	format := byte('f')
	if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// 1e-07 -> 1e-7
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString quotes a string exactly as encoding/json does with HTML
// escaping off: \" \\ \b \f \n \r \t, \u00XX for other control characters,
// \ufffd for invalid UTF-8, \u2028 and \u2029 escaped.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// marshalJSONValue encodes any Go value with encoding/json without HTML
// escaping, as JSON.stringify does.
func marshalJSONValue(v any) ([]byte, error) {
	var b jsonBuffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	out := []byte(b)
	if n := len(out); n > 0 && out[n-1] == '\n' {
		out = out[:n-1]
	}
	return out, nil
}

type jsonBuffer []byte

// Write implements io.Writer.
func (j *jsonBuffer) Write(p []byte) (int, error) {
	*j = append(*j, p...)
	return len(p), nil
}

// UnmarshalJSON decodes an untrusted JSON payload into a generic tree
// (numbers are float64). Nesting and the number of values are bounded as
// for msgpack before encoding/json allocates anything.
func UnmarshalJSON(b []byte) (any, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(b), MaxMessageSize)
	}
	if err := checkJSONShape(b); err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return v, nil
}

// checkJSONShape scans JSON text without parsing it and rejects nesting
// deeper than MaxDepth and more values than decodeBudget allows (counted as
// in the msgpack decoder: a scalar or array 1, an object mapCost, a member
// 2). Strings are skipped so that their content does not count. Malformed
// text is left to encoding/json, which validates everything before it
// allocates.
func checkJSONShape(b []byte) error {
	depth, cost := 0, 1
	for i := 0; i < len(b); i++ {
		switch jsonClass[b[i]] {
		case 0:
			continue
		case jsonQuote:
			j := i + 1
			for {
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					return nil // unterminated string: invalid JSON
				}
				j += k
				escapes := 0
				for p := j - 1; p > i && b[p] == '\\'; p-- {
					escapes++
				}
				if escapes%2 == 0 {
					break
				}
				j++
			}
			i = j
			continue
		case jsonObject:
			cost += mapCost
			depth++
		case jsonArray:
			depth++
		case jsonClose:
			depth--
		case jsonSeparator:
			cost++
		}
		if depth > MaxDepth+1 {
			return errTooDeep
		}
		if cost > decodeBudget {
			return errTooMany
		}
	}
	return nil
}

const (
	jsonQuote = iota + 1
	jsonObject
	jsonArray
	jsonClose
	jsonSeparator
)

var jsonClass = [256]byte{'"': jsonQuote, '{': jsonObject, '[': jsonArray, '}': jsonClose, ']': jsonClose,
	',': jsonSeparator, ':': jsonSeparator}

// appendJSONArray appends the elements of x as a JSON array.
func appendJSONArray[T any](b []byte, x []T, depth int) ([]byte, error) {
	b = append(b, '[')
	for i, e := range x {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSON(b, e, depth+1); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}
