package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/sioredis/sioredis/internal/wiretest"
	"github.com/vmihailenco/msgpack/v5"
)

// FuzzMsgpackDecoder compares the single-pass decoder with the original
// validate + vmihailenco + normalize pipeline (oracle_test.go), and checks
// that a decoded tree re-encodes into the same tree.
func FuzzMsgpackDecoder(f *testing.F) {
	for _, v := range wiretest.LoadVectors(f, wiretest.VectorsFile) {
		if v.Format == "msgpack" {
			f.Add(v.Payload(f))
		}
	}
	for _, p := range wiretest.Bombs() {
		f.Add(p)
	}
	for _, h := range []string{"d6ff65937d20", "d7ff016e360065937d25", "c70cff00000000fffffff184aa5080",
		"cb7ff8000000000000", "cb8000000000000000", "caff800000", "81cb3e7ad7f29abcaf48c0", "83c301c202c003",
		"cf8000000000000000", "cfffffffffffffffff", "d38000000000000000", "81c4016101", "c70cff000000010000000000000000"} {
		f.Add(wiretest.Hex(h))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := UnmarshalMsgpack(payload)
		want, oracleErr := oracleUnmarshalMsgpack(payload)
		if (err == nil) != (oracleErr == nil) {
			t.Fatalf("decoder error %v, oracle error %v", err, oracleErr)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %q does not wrap ErrMalformed", err)
			}
			return
		}
		if d := wiretest.Diff(want, got); d != "" {
			t.Fatalf("decoder and oracle differ: %s", d)
		}
		enc, err := MarshalMsgpack(got)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		back, err := UnmarshalMsgpack(enc)
		if err != nil {
			t.Fatalf("decoding the re-encoded %x: %v", enc, err)
		}
		if d := wiretest.Diff(got, back); d != "" {
			t.Fatalf("round trip: %s", d)
		}
		// Where the order of keys is fixed (no map with two keys or more),
		// the bytes are vmihailenco's (configured as notepack.io), except
		// for integral numbers in [2^63, 2^64), which notepack.io writes as
		// uint64 and vmihailenco as float64.
		if deterministic(got) {
			var ref bytes.Buffer
			e := msgpack.NewEncoder(&ref)
			e.UseCompactInts(true)
			e.UseCompactFloats(true)
			if err := e.Encode(got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ref.Bytes(), enc) {
				t.Fatalf("encoder %x, vmihailenco %x", enc, ref.Bytes())
			}
		}
		// The JSON writer agrees with encoding/json on the same tree.
		checkJSONWriter(t, got)
	})
}

// checkJSONWriter compares MarshalJSON with encoding/json (HTML escaping
// off); the only difference allowed is -0, which JSON.stringify writes 0.
func checkJSONWriter(t *testing.T, v any) {
	t.Helper()
	got, err := MarshalJSON(v)
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	want, err := marshalJSONValue(v)
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	if !bytes.Equal(got, want) && !(hasNegativeZero(v) && bytes.Equal(got, bytes.ReplaceAll(want, []byte("-0"), []byte("0")))) {
		t.Fatalf("JSON writer\n got %s\nwant %s", got, want)
	}
}

func hasNegativeZero(v any) bool {
	switch x := v.(type) {
	case float64:
		return x == 0 && math.Signbit(x)
	case []any:
		for _, e := range x {
			if hasNegativeZero(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasNegativeZero(e) {
				return true
			}
		}
	}
	return false
}

func deterministic(v any) bool {
	switch x := v.(type) {
	case float64:
		return !(x >= 1<<63 && x < 1<<64 && x == math.Trunc(x))
	case []any:
		for _, e := range x {
			if !deterministic(e) {
				return false
			}
		}
	case map[string]any:
		if len(x) > 1 {
			return false
		}
		for _, e := range x {
			if !deterministic(e) {
				return false
			}
		}
	}
	return true
}

// FuzzJSONWriter feeds JSON text through encoding/json into a generic tree
// and compares the package's JSON writer with encoding/json on it.
func FuzzJSONWriter(f *testing.F) {
	for _, v := range wiretest.LoadVectors(f, wiretest.VectorsFile) {
		if v.Format == "json" {
			f.Add([]byte(v.Payload(f)))
		}
	}
	f.Add([]byte(`["\u2028\u2029\u0000\b\f\n\r\t\"\\/<>&\ud800", 1e21, 1e-7, 0.1, -0, 123456789, 1.5e300]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		checkJSONWriter(t, v)
		// Strings straight from the fuzzer, invalid UTF-8 included.
		checkJSONWriter(t, []any{string(data), map[string]any{string(data): 1.0}})
	})
}
