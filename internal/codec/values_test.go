package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/wiretest"
)

type tagged struct {
	Name    string         `json:"name"`
	Age     int            `json:"age,omitempty"`
	Tags    []string       `json:"tags"`
	Skip    string         `json:"-"`
	private int            //nolint:unused // must not show up
	Nested  *tagged        `json:"nested,omitempty"`
	Extra   map[string]int `json:"extra,omitempty"`
}

type named string

func TestToWire(t *testing.T) {
	when := time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	deep := any("leaf")
	for range MaxDepth + 5 {
		deep = []any{deep}
	}
	cases := []struct {
		name string
		in   any
		want any
		err  bool
	}{
		{name: "nil", in: nil, want: nil},
		{name: "scalars are kept", in: []any{true, "s", 1, int8(-2), uint64(3), 1.5},
			want: []any{true, "s", 1, int8(-2), uint64(3), 1.5}},
		{name: "bytes are kept", in: []byte{1, 2}, want: []byte{1, 2}},
		{name: "time is kept (msgpack timestamp, a Date for Node)", in: when, want: when},
		{name: "float32 widens", in: float32(0.5), want: 0.5},
		{name: "json.Number", in: json.Number("12.5"), want: 12.5},
		{name: "struct through json tags", in: tagged{Name: "bob", Tags: []string{"a"}, Skip: "x", private: 1,
			Nested: &tagged{Name: "kid"}},
			want: map[string]any{"name": "bob", "tags": []any{"a"},
				"nested": map[string]any{"name": "kid", "tags": nil}}},
		{name: "pointer to struct", in: &tagged{Name: "p", Extra: map[string]int{"k": 2}},
			want: map[string]any{"name": "p", "tags": nil, "extra": map[string]any{"k": 2.0}}},
		{name: "typed slice", in: []int{1, 2}, want: []any{1.0, 2.0}},
		{name: "typed map", in: map[string]string{"a": "b"}, want: map[string]any{"a": "b"}},
		{name: "named string", in: named("x"), want: "x"},
		{name: "nested readers",
			in: map[string]any{"b": bytes.NewReader([]byte{7}), "r": strings.NewReader("rd"),
				"list": []any{float32(2), bytes.NewReader([]byte("z"))}},
			want: map[string]any{"b": []byte{7}, "r": "rd", "list": []any{2.0, []byte("z")}}},
		{name: "nil readers", in: []any{(*strings.Reader)(nil), (*bytes.Reader)(nil)}, want: []any{nil, nil}},
		{name: "empty bytes stay binary", in: []byte{}, want: []byte{}},
		{name: "NaN", in: math.NaN(), err: true},
		{name: "+Inf", in: math.Inf(1), err: true},
		{name: "float32 Inf", in: float32(math.Inf(-1)), err: true},
		{name: "NaN nested", in: map[string]any{"a": []any{1, math.NaN()}}, err: true},
		{name: "NaN in struct", in: struct{ F float64 }{math.NaN()}, err: true},
		{name: "func", in: func() {}, err: true},
		{name: "func nested", in: []any{"ok", func() {}}, err: true},
		{name: "chan", in: make(chan int), err: true},
		{name: "complex", in: complex(1, 2), err: true},
		{name: "map with int keys", in: map[int]string{1: "a"}, err: true},
		{name: "map with any keys", in: map[any]any{"a": 1}, err: true},
		{name: "cyclic map", in: cyclic, err: true},
		{name: "too deep", in: deep, err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ToWire(c.in)
			if c.err {
				if err == nil {
					t.Fatalf("got %#v, want an error", got)
				}
				if !errors.Is(err, ErrUnsupportedValue) {
					t.Errorf("error %v does not wrap ErrUnsupportedValue", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := wiretest.Diff(c.want, got); d != "" {
				t.Error(d)
			}
		})
	}
}

// A binding's converter is asked first, at every level of the tree.
func TestToWireWith(t *testing.T) {
	type token struct{ v string }
	conv := func(v any) (any, bool, error) {
		if tk, ok := v.(token); ok {
			return "tk:" + tk.v, true, nil
		}
		if _, ok := v.(chan int); ok {
			return nil, false, errors.New("refused")
		}
		return nil, false, nil
	}
	got, err := ToWireWith(map[string]any{"a": token{"1"}, "l": []any{token{"2"}, 3}}, conv)
	if err != nil {
		t.Fatal(err)
	}
	if d := wiretest.Diff(map[string]any{"a": "tk:1", "l": []any{"tk:2", 3}}, got); d != "" {
		t.Error(d)
	}
	if _, err := ToWireWith([]any{make(chan int)}, conv); err == nil || err.Error() != "refused" {
		t.Errorf("converter error: %v", err)
	}
	// Without the converter the struct goes through encoding/json.
	if got, _ := ToWire(token{"x"}); wiretest.Diff(map[string]any{}, got) != "" {
		t.Errorf("ToWire(token) = %#v", got)
	}
}

func TestToWireDoesNotModifyInput(t *testing.T) {
	in := map[string]any{"f": float32(1), "keep": []any{1, "x"}}
	out, err := ToWire(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := in["f"].(float32); !ok {
		t.Error("input map was modified")
	}
	if out.(map[string]any)["f"] != 1.0 {
		t.Errorf("got %#v", out)
	}
	// Unchanged containers are not copied.
	arr := []any{1, "x", []byte{1}}
	out, _ = ToWire(arr)
	if &out.([]any)[0] != &arr[0] {
		t.Error("an unchanged slice was copied")
	}
}

// An empty reader is sent as an empty bin (c4 00), not as nil.
func TestToWireEmptyBuffer(t *testing.T) {
	out, err := ToWire(bytes.NewReader(nil))
	if b, ok := out.([]byte); err != nil || !ok || b == nil {
		t.Fatalf("got %#v, %v", out, err)
	}
	enc, err := MarshalMsgpack(out)
	if err != nil || !bytes.Equal(enc, []byte{0xc4, 0}) {
		t.Errorf("encoded %x, %v", enc, err)
	}
}

func TestHasBinary(t *testing.T) {
	cases := []struct {
		in   any
		want bool
	}{
		{nil, false},
		{[]any{"a", 1.0}, false},
		{[]byte{}, true},
		{[]any{"a", map[string]any{"b": []any{[]byte{1}}}}, true},
		{Object{{"a", 1}, {"b", Object{{"c", []byte{1}}}}}, true},
		{[]Object{{{"a", 1}}}, false},
		{[]Object{{{"a", []byte{1}}}}, true},
	}
	for _, c := range cases {
		if got := HasBinary(c.in); got != c.want {
			t.Errorf("HasBinary(%#v) = %v", c.in, got)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	cases := map[float64]string{
		0: "0", math.Copysign(0, -1): "0", 1: "1", -1.5: "-1.5", 1e21: "1e+21", 1.5e21: "1.5e+21", 1e20: "100000000000000000000",
		1e-6: "0.000001", 1e-7: "1e-7", -1.25e-10: "-1.25e-10", 123456789: "123456789", 0.1: "0.1",
		math.NaN(): "NaN", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", 1e300: "1e+300", 5e-324: "5e-324",
	}
	for f, want := range cases {
		if got := FormatNumber(f); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", f, got, want)
		}
	}
}
