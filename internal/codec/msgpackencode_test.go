package codec

import (
	"bytes"
	"encoding/hex"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/wiretest"
)

// TestMsgpackLikeNotepack: the msgpack writer picks the forms notepack.io
// picks for the same JavaScript values.
func TestMsgpackLikeNotepack(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"0", 0.0, "00"},
		{"-0", math.Copysign(0, -1), "00"},
		{"127", 127.0, "7f"},
		{"128", 128.0, "cc80"},
		{"255", 255, "ccff"},
		{"256", uint16(256), "cd0100"},
		{"65535", 65535.0, "cdffff"},
		{"65536", 65536, "ce00010000"},
		{"2^32", 4294967296.0, "cf0000000100000000"},
		{"1e19 (uint64 in notepack, float64 in vmihailenco)", 1e19, "cf8ac7230489e80000"},
		{"2^64", 18446744073709551616.0, "cb43f0000000000000"},
		{"max uint64", uint64(math.MaxUint64), "cfffffffffffffffff"},
		{"-1", -1.0, "ff"},
		{"-32", int8(-32), "e0"},
		{"-33", -33, "d0df"},
		{"-128", -128.0, "d080"},
		{"-129", int64(-129), "d1ff7f"},
		{"-32768", -32768, "d18000"},
		{"-32769", -32769.0, "d2ffff7fff"},
		{"-2^31", int32(math.MinInt32), "d280000000"},
		{"-2^31-1", -2147483649.0, "d3ffffffff7fffffff"},
		{"-2^63", -9223372036854775808.0, "d38000000000000000"},
		{"-2^64", -18446744073709551616.0, "cbc3f0000000000000"},
		{"1.5", 1.5, "cb3ff8000000000000"},
		{"float32 widens", float32(1.5), "cb3ff8000000000000"},
		{"NaN", math.NaN(), "cb7ff8000000000001"},
		{"+Inf", math.Inf(1), "cb7ff0000000000000"},
		{"nil", nil, "c0"},
		{"true", true, "c3"},
		{"false", false, "c2"},
		{"empty string", "", "a0"},
		{"str 31", strings.Repeat("a", 31), "bf" + strings.Repeat("61", 31)},
		{"str 32", strings.Repeat("a", 32), "d920" + strings.Repeat("61", 32)},
		{"str 256", strings.Repeat("a", 256), "da0100" + strings.Repeat("61", 256)},
		{"bin", []byte{1, 2}, "c4020102"},
		{"empty bin", []byte{}, "c400"},
		{"nil bin", []byte(nil), "c0"},
		{"bin 256", make([]byte, 256), "c50100" + strings.Repeat("00", 256)},
		{"array 15", make([]any, 15), "9f" + strings.Repeat("c0", 15)},
		{"array 16", make([]any, 16), "dc0010" + strings.Repeat("c0", 16)},
		{"nil array", []any(nil), "c0"},
		{"empty map", map[string]any{}, "80"},
		{"nil map", map[string]any(nil), "c0"},
		{"ordered object", Object{{"b", 1}, {"a", Object{}}}, "82a16201a16180"},
		{"array of objects", []Object{{{"a", 1}}}, "9181a16101"},
		{"epoch", time.Unix(0, 0), "d6ff00000000"},
		{"timestamp64", time.Unix(1, 5e8), "d7ff7735940000000001"},
		{"timestamp96", time.Unix(-1, 0), "c70cff00000000ffffffffffffffff"},
		{"struct as ToWire normalises it (json tags)", struct {
			A int `json:"a"`
		}{A: 1}, "81a16101"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := MarshalMsgpack(c.in)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := hex.DecodeString(c.want)
			if c.name == "NaN" {
				// Any NaN payload will do.
				if len(got) != 9 || got[0] != 0xcb || !math.IsNaN(math.Float64frombits(beUint64(got[1:]))) {
					t.Errorf("got %x", got)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got %x, want %s", got, c.want)
			}
		})
	}
	// Large headers.
	big, err := MarshalMsgpack([]any{strings.Repeat("x", 70000), make([]byte, 70000), make([]any, 70000), bigMap(70000)})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := UnmarshalMsgpack(big)
	if err != nil {
		t.Fatal(err)
	}
	a := tree.([]any)
	if len(a[0].(string)) != 70000 || len(a[1].([]byte)) != 70000 || len(a[2].([]any)) != 70000 || len(a[3].(map[string]any)) != 70000 {
		t.Error("32-bit headers did not round-trip")
	}
	for _, h := range []string{"94db00011170", "c600011170", "dd00011170", "df00011170"} {
		if !bytes.Contains(big, wiretest.Hex(h)) {
			t.Errorf("no %s header", h)
		}
	}
	// Cycles are refused instead of overflowing the stack.
	cyclic := []any{nil}
	cyclic[0] = cyclic
	if _, err := MarshalMsgpack(cyclic); err == nil {
		t.Error("cyclic value encoded")
	}
	if _, err := MarshalJSON(cyclic); err == nil {
		t.Error("cyclic value encoded as JSON")
	}
}

func bigMap(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[FormatNumber(float64(i))] = nil
	}
	return m
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}
