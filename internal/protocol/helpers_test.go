package protocol

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sioredis/sioredis/internal/codec"
	"github.com/sioredis/sioredis/internal/wiretest"
)

// loadVectors reads the messages recorded from Node (see wiretest.Vector).
func loadVectors(tb testing.TB) []wiretest.Vector {
	return wiretest.LoadVectors(tb, "testdata/node-vectors.json")
}

// vectorPayloads returns the payloads of every in-scope vector, grouped by
// the decoder that reads them.
func vectorPayloads(tb testing.TB) (broadcasts, requests, responses, cluster [][]byte) {
	for _, v := range loadVectors(tb) {
		if v.IsStreams() {
			continue
		}
		p := v.Payload(tb)
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
func decoderFor(v wiretest.Vector) string {
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
		v, err = codec.UnmarshalJSON(b)
	} else {
		v, err = codec.UnmarshalMsgpack(b)
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
