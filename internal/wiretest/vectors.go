package wiretest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// VectorsFile is the path of the recorded Node messages from the directory
// of a package under internal/.
const VectorsFile = "../protocol/testdata/node-vectors.json"

// Vector is one message of internal/protocol/testdata/node-vectors.json,
// recorded from the real Node packages by interop/node/record-vectors.js
// (`npm run record-vectors` in interop/; see docs/protocol.md, "Test
// vectors").
type Vector struct {
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

// IsStreams reports vectors of the Redis streams adapter (V11-V13 in the
// JSON file, docs/protocol.md §5).
func (v Vector) IsStreams() bool {
	return v.Section == "V11" || v.Section == "V12" || v.Section == "V13" || v.Format == "fields"
}

// Payload returns the exact bytes Node published: the hex for msgpack, the
// compacted JSON text for JSON (the file pretty-prints it; compacting it
// restores the recorded payload, key order included).
func (v Vector) Payload(tb testing.TB) []byte {
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

// LogicalValue returns the vector's logical value as a generic tree, with
// "<Buffer 0102>" strings turned into []byte.
func (v Vector) LogicalValue(tb testing.TB) any {
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

// LoadVectors reads the recorded Node messages from path.
func LoadVectors(tb testing.TB, path string) []Vector {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var file struct {
		Vectors []Vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		tb.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		tb.Fatal("no vectors")
	}
	return file.Vectors
}
