package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sioredis/sioredis/internal/wiretest"
)

// nodeVector is one message of testdata/node-vectors.json, recorded from the
// real Node packages by interop/node/record-vectors.js (`npm run
// record-vectors` in interop/; see docs/protocol.md, "Test vectors").
type nodeVector struct {
	Section string          `json:"section"`
	Name    string          `json:"name"`
	Title   string          `json:"title"`
	Command string          `json:"command"`
	Channel string          `json:"channel"`
	Sender  string          `json:"sender"`
	Format  string          `json:"format"`
	Logical json.RawMessage `json:"logical"`
	JSON    json.RawMessage `json:"json"`
	Hex     string          `json:"hex"`
	Fields  json.RawMessage `json:"fields"`
}

// isStreams reports vectors of the Redis streams adapter (V11-V13 in the
// JSON file, docs/protocol.md §5), checked by TestStreamsVectors.
func (v nodeVector) isStreams() bool {
	return v.Section == "V11" || v.Section == "V12" || v.Section == "V13" || v.Format == "fields"
}

// payload returns the exact bytes Node published: the hex for msgpack, the
// compacted JSON text for JSON (the file pretty-prints it; compacting it
// restores the recorded payload, key order included).
func (v nodeVector) payload(tb testing.TB) []byte {
	tb.Helper()
	switch v.Format {
	case "msgpack":
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			tb.Fatalf("%s: bad hex: %v", v.Name, err)
		}
		return b
	case "json":
		var buf bytes.Buffer
		if err := json.Compact(&buf, v.JSON); err != nil {
			tb.Fatalf("%s: bad json: %v", v.Name, err)
		}
		return buf.Bytes()
	}
	tb.Fatalf("%s: no payload for format %q", v.Name, v.Format)
	return nil
}

// logicalValue returns the vector's logical value as a generic tree, with
// "<Buffer 0102>" strings turned into []byte.
func (v nodeVector) logicalValue(tb testing.TB) any {
	tb.Helper()
	raw := v.Logical
	if v.Format == "json" {
		raw = v.JSON
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("%s: %v", v.Name, err)
	}
	return replaceBuffers(tb, out)
}

func replaceBuffers(tb testing.TB, v any) any {
	switch x := v.(type) {
	case string:
		if rest, ok := strings.CutPrefix(x, "<Buffer "); ok && strings.HasSuffix(rest, ">") {
			b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSuffix(rest, ">"), " ", ""))
			if err != nil {
				tb.Fatalf("bad buffer literal %q", x)
			}
			return b
		}
	case []any:
		for i, e := range x {
			x[i] = replaceBuffers(tb, e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = replaceBuffers(tb, e)
		}
	}
	return v
}

func loadVectors(tb testing.TB) []nodeVector {
	tb.Helper()
	raw, err := os.ReadFile("testdata/node-vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var file struct {
		Vectors []nodeVector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		tb.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		tb.Fatal("no vectors")
	}
	return file.Vectors
}

// vectorPayloads returns the payloads of every in-scope vector, grouped by
// the decoder that reads them.
func vectorPayloads(tb testing.TB) (broadcasts, requests, responses, cluster [][]byte) {
	for _, v := range loadVectors(tb) {
		if v.isStreams() {
			continue
		}
		p := v.payload(tb)
		switch decoderFor(v) {
		case "broadcast":
			broadcasts = append(broadcasts, p)
		case "request":
			requests = append(requests, p)
		case "response":
			responses = append(responses, p)
		case "cluster":
			cluster = append(cluster, p)
		}
	}
	return
}

// decoderFor picks the decoder from the Redis command and the channel, as
// the adapter does.
func decoderFor(v nodeVector) string {
	switch {
	case v.Command == "SPUBLISH":
		return "cluster"
	case strings.HasPrefix(v.Channel, DefaultPrefix+"-request#"):
		return "request"
	case strings.HasPrefix(v.Channel, DefaultPrefix+"-response#"):
		return "response"
	case v.Command == "PUBLISH" && strings.HasPrefix(v.Channel, DefaultPrefix+"#"):
		return "broadcast"
	}
	return ""
}

// diff compares two wire values (see wiretest.Diff).
func diff(want, got any) string { return wiretest.Diff(want, got) }

// genericJSON parses JSON into a generic tree (numbers as float64).
func genericJSON(tb testing.TB, b []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("invalid JSON %q: %v", b, err)
	}
	return v
}

// genericPayload decodes any payload (JSON or msgpack) into a generic tree
// with the package's own decoder.
func genericPayload(tb testing.TB, b []byte) any {
	tb.Helper()
	var v any
	var err error
	if len(b) > 0 && b[0] == '{' {
		v, err = unmarshalJSON(b)
	} else {
		v, err = unmarshalMsgpack(b)
	}
	if err != nil {
		tb.Fatalf("cannot decode %x: %v", b, err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hexDecode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
