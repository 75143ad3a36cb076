// Package wiretest holds what the tests of several packages use to check
// wire values: a deep comparison, the messages recorded from Node and
// hostile payloads.
package wiretest

import (
	"bytes"
	"fmt"
	"reflect"
)

// Diff compares two values deeply and describes the first difference, or
// returns "". Nil and empty slices and maps are equal (the wire cannot tell
// them apart); everything else must match exactly, including dynamic types
// inside interfaces.
func Diff(want, got any) string {
	return diffValue("", reflect.ValueOf(want), reflect.ValueOf(got))
}

func diffValue(path string, a, b reflect.Value) string {
	if !a.IsValid() || !b.IsValid() {
		if a.IsValid() == b.IsValid() {
			return ""
		}
		if isEmptyValue(a) && isEmptyValue(b) {
			return ""
		}
		return fmt.Sprintf("%s: want %s, got %s", path, describe(a), describe(b))
	}
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: want %s, got %s", path, describe(a), describe(b))
	}
	switch a.Kind() {
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() && b.IsNil() {
				return ""
			}
			return fmt.Sprintf("%s: want %s, got %s", path, describe(a), describe(b))
		}
		return diffValue(path, a.Elem(), b.Elem())
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() && b.IsNil() {
				return ""
			}
			return fmt.Sprintf("%s: want %s, got %s", path, describe(a), describe(b))
		}
		return diffValue(path, a.Elem(), b.Elem())
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !a.Type().Field(i).IsExported() {
				continue
			}
			if d := diffValue(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice:
		if a.Type().Elem().Kind() == reflect.Uint8 {
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				return fmt.Sprintf("%s: want %x, got %x", path, a.Bytes(), b.Bytes())
			}
			return ""
		}
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: want %d elements %s, got %d %s", path, a.Len(), describe(a), b.Len(), describe(b))
		}
		for i := 0; i < a.Len(); i++ {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: want %d keys %s, got %d %s", path, a.Len(), describe(a), b.Len(), describe(b))
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				return fmt.Sprintf("%s: key %v missing", path, k)
			}
			if d := diffValue(fmt.Sprintf("%s[%v]", path, k), a.MapIndex(k), bv); d != "" {
				return d
			}
		}
		return ""
	case reflect.Float32, reflect.Float64:
		// NaN never reaches a decoded tree, so == is enough.
		if a.Float() != b.Float() {
			return fmt.Sprintf("%s: want %v, got %v", path, a.Float(), b.Float())
		}
		return ""
	}
	if !a.Equal(b) {
		return fmt.Sprintf("%s: want %s, got %s", path, describe(a), describe(b))
	}
	return ""
}

func isEmptyValue(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

func describe(v reflect.Value) string {
	if !v.IsValid() {
		return "<invalid>"
	}
	if v.CanInterface() {
		return fmt.Sprintf("%T(%#v)", v.Interface(), v.Interface())
	}
	return v.String()
}
