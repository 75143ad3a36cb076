package codec

import (
	"errors"
	"testing"

	"github.com/sioredis/sioredis/internal/wiretest"
)

// walk rebuilds the generic tree of the value at r's position through the
// token calls a typed decoder makes: containers entered, strings read with
// Str, everything else with Value.
func walk(r Tokens) (any, error) {
	k, err := r.Peek()
	if err != nil {
		return nil, err
	}
	switch k {
	case KindString:
		return r.Str("", true)
	case KindArray:
		hint, err := r.EnterArray()
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, hint)
		for {
			more, err := r.More()
			if err != nil || !more {
				return out, err
			}
			v, err := walk(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	case KindObject:
		if _, err := r.EnterObject(); err != nil {
			return nil, err
		}
		out := map[string]any{}
		for {
			more, err := r.More()
			if err != nil || !more {
				return out, err
			}
			key, err := r.Key()
			if err != nil {
				return nil, err
			}
			v, err := walk(r)
			if err != nil {
				return nil, err
			}
			out[key] = v
		}
	}
	return r.Value()
}

// FuzzTokens: walking a payload token by token accepts and rejects what the
// tree decoders do, under the same limits, and builds the same tree.
func FuzzTokens(f *testing.F) {
	for _, v := range wiretest.LoadVectors(f, wiretest.VectorsFile) {
		if v.Format == "msgpack" || v.Format == "json" {
			f.Add(v.Payload(f))
		}
	}
	for _, p := range wiretest.Bombs() {
		f.Add(p)
	}
	for _, h := range []string{"81a0c0", "82a161c0a161c3", "81cb3ff8000000000000c0", "81c3c2", "92c4016191a162",
		"dc0002c0c0", "de0001a16101", "81a16191" + "91919191", "93a175c0c0c0"} {
		f.Add(wiretest.Hex(h))
	}
	f.Add([]byte(`{"a":[1,"x",{"b":null}],"a":true,"c":"\u00e9\ud800"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var want any
		var wantErr error
		if len(payload) > 0 && payload[0] == '{' {
			want, wantErr = UnmarshalJSON(payload)
		} else {
			want, wantErr = UnmarshalMsgpack(payload)
		}
		got, err := func() (any, error) {
			r, err := NewTokens(payload)
			if err != nil {
				return nil, err
			}
			v, err := walk(r)
			if err != nil {
				return nil, err
			}
			return v, r.End()
		}()
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("tokens error %v, tree decoder error %v", err, wantErr)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %q does not wrap ErrMalformed", err)
			}
			return
		}
		if d := wiretest.Diff(want, got); d != "" {
			t.Fatalf("tokens and tree decoder differ: %s", d)
		}
	})
}
