package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/sioredis/sioredis/internal/codec"
	"github.com/sioredis/sioredis/internal/wiretest"
)

// decoders are the four entry points that see bytes from Redis.
var decoders = []struct {
	name   string
	decode func([]byte) (any, error)
}{
	{"DecodeBroadcast", func(b []byte) (any, error) { return DecodeBroadcast(b) }},
	{"DecodeRequest", func(b []byte) (any, error) { return DecodeRequest(b) }},
	{"DecodeResponse", func(b []byte) (any, error) { return DecodeResponse(b) }},
	{"DecodeEnvelope", func(b []byte) (any, error) { return DecodeEnvelope(b) }},
}

// mustReject runs a decoder on hostile input: it must return an error that
// wraps codec.ErrMalformed, and no value.
func mustReject(t *testing.T, name string, decode func([]byte) (any, error), payload []byte) {
	t.Helper()
	v, err := safeDecode(decode, payload)
	if err == nil {
		t.Errorf("%s accepted %s: %#v", name, short(payload), v)
		return
	}
	if !errors.Is(err, codec.ErrMalformed) {
		t.Errorf("%s(%s): error %q does not wrap codec.ErrMalformed", name, short(payload), err)
	}
}

// safeDecode turns a panic into a test-visible error.
func safeDecode(decode func([]byte) (v any, err error), payload []byte) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
	}()
	return decode(payload)
}

func short(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%x... (%d bytes)", b[:40], len(b))
	}
	return fmt.Sprintf("%x (%q)", b, b)
}

func TestHostileBombs(t *testing.T) {
	for name, payload := range wiretest.Bombs() {
		t.Run(name, func(t *testing.T) {
			for _, d := range decoders {
				mustReject(t, d.name, d.decode, payload)
			}
		})
	}
}

// TestHostileBombsDoNotAllocate: a 5-byte header claiming billions of
// elements must be rejected before anything proportional to the claim is
// allocated.
func TestHostileBombsDoNotAllocate(t *testing.T) {
	for name, payload := range wiretest.Bombs() {
		if len(payload) > 16 {
			continue
		}
		for _, d := range decoders {
			// The count only guards against a loop per claimed element; the
			// byte bound below is the proportionality check. A GC during the
			// runs empties the JSON decoder's sync.Pool and the refill adds a
			// few allocations (9 seen locally, 11 in CI), so the bound leaves room.
			allocs := testing.AllocsPerRun(20, func() { _, _ = d.decode(payload) })
			if allocs > 24 {
				t.Errorf("%s %s: %.0f allocations", d.name, name, allocs)
			}
			if n := heapBytes(func() { _, _ = d.decode(payload) }); n > 16<<10 {
				t.Errorf("%s %s: %d bytes allocated", d.name, name, n)
			}
		}
	}
	// The deep nestings stop at codec.MaxDepth: a few KiB, not 10k levels.
	for _, name := range []string{"10k nested arrays", "10k nested maps", "10k nested JSON arrays closed", "10k nested JSON objects"} {
		payload := wiretest.Bombs()[name]
		for _, d := range decoders {
			if n := heapBytes(func() { _, _ = d.decode(payload) }); n > 256<<10 {
				t.Errorf("%s %s: %d bytes allocated", d.name, name, n)
			}
		}
	}
}

// heapBytes returns the bytes f allocates.
func heapBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileAmplification: payloads made of tiny containers are cut off by
// the value budget instead of costing gigabytes.
func TestHostileAmplification(t *testing.T) {
	const n = 1 << 20
	// [{}, {}, ... ] with a million maps (1 MiB of msgpack).
	maps := append([]byte{0xdd, 0, 0x10, 0, 0}, bytes.Repeat([]byte{0x80}, n)...)
	// [{"":nil}, ...]: three bytes per map.
	fullMaps := append([]byte{0xdd, 0, 0x10, 0, 0}, bytes.Repeat([]byte{0x81, 0xa0, 0xc0}, n)...)
	// A flat array of 8M nils is refused from its header.
	nils := append([]byte{0xdd, 0, 0x80, 0, 0}, bytes.Repeat([]byte{0xc0}, 8<<20)...)
	// JSON: [{},{},...] and [0,0,...].
	jsonMaps := []byte(`{"type":10,"data":{"requestId":"r","packet":[` + strings.Repeat("{},", n) + `{}]},"uid":"u","nsp":"/"}`)
	jsonNums := []byte(`{"type":10,"data":{"requestId":"r","packet":[` + strings.Repeat("0,", 5<<20) + `0]},"uid":"u","nsp":"/"}`)
	cases := []struct {
		name     string
		payload  []byte
		decoders []int
		maxBytes uint64
	}{
		{"million empty maps", maps, []int{0, 2}, 64 << 20},
		{"million one-key maps", fullMaps, []int{0, 2}, 128 << 20},
		{"8M nils", nils, []int{0, 2}, 1 << 20},
		{"JSON million maps", jsonMaps, []int{3}, 1 << 20},
		{"JSON 5M numbers", jsonNums, []int{3}, 1 << 20},
	}
	for _, c := range cases {
		for _, i := range c.decoders {
			d := decoders[i]
			var err error
			n := heapBytes(func() { _, err = d.decode(c.payload) })
			if !errors.Is(err, codec.ErrMalformed) {
				t.Errorf("%s %s: err = %v", d.name, c.name, err)
			}
			if n > c.maxBytes {
				t.Errorf("%s %s: %d MiB allocated", d.name, c.name, n>>20)
			}
		}
	}
	// A large but ordinary message still decodes: 200k numbers.
	ok := append([]byte{0x93, 0xa1, 0x75, 0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa4, 'd', 'a', 't', 'a',
		0xdd, 0x00, 0x03, 0x0d, 0x41, 0xa1, 'e'}, bytes.Repeat([]byte{0x01}, 200000)...)
	ok = append(ok, wiretest.Hex("a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380")...)
	if b, err := DecodeBroadcast(ok); err != nil || len(b.Packet.Data) != 200001 {
		t.Errorf("large broadcast: %v", err)
	}
}

func TestHostileOversized(t *testing.T) {
	for _, first := range []byte{0x93, '{', 0x85} {
		big := make([]byte, MaxMessageSize+1)
		big[0] = first
		for _, d := range decoders {
			var err error
			n := heapBytes(func() { _, err = d.decode(big) })
			if !errors.Is(err, codec.ErrMalformed) {
				t.Errorf("%s oversized (0x%02x): %v", d.name, first, err)
			}
			if n > 64<<10 { // far below the 16 MiB a parse would need
				t.Errorf("%s oversized: %d bytes allocated", d.name, n)
			}
		}
	}
	// Exactly MaxMessageSize is accepted: a broadcast carrying one large
	// binary argument.
	head := wiretest.Hex("93a17583a47479706502a46461746192a165c6")
	tail := wiretest.Hex("a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380")
	size := MaxMessageSize - len(head) - 4 - len(tail)
	msg := append(append([]byte{}, head...), byte(size>>24), byte(size>>16), byte(size>>8), byte(size))
	msg = append(msg, make([]byte, size)...)
	msg = append(msg, tail...)
	if len(msg) != MaxMessageSize {
		t.Fatalf("built %d bytes", len(msg))
	}
	b, err := DecodeBroadcast(msg)
	if err != nil {
		t.Fatalf("a message of exactly MaxMessageSize: %v", err)
	}
	if got := len(b.Packet.Data[1].([]byte)); got != size {
		t.Errorf("binary of %d bytes", got)
	}
}

func TestHostileRandomBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		p := make([]byte, r.IntN(64))
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		if i%4 == 0 && len(p) > 0 {
			p[0] = '{' // JSON path
		}
		for _, d := range decoders {
			v, err := safeDecode(d.decode, p)
			if err != nil && !errors.Is(err, codec.ErrMalformed) {
				t.Fatalf("%s(%x): %v", d.name, p, err)
			}
			_ = v
		}
	}
}

// TestHostileTruncated: every strict prefix of every vector is refused by
// the decoder of that vector, and no decoder panics on any vector.
func TestHostileTruncated(t *testing.T) {
	byDecoder := map[string]int{"broadcast": 0, "request": 1, "response": 2, "cluster": 3}
	for _, v := range loadVectors(t) {
		if v.IsStreams() {
			continue
		}
		payload := v.Payload(t)
		d := decoders[byDecoder[decoderFor(v)]]
		t.Run(v.Name, func(t *testing.T) {
			for n := 0; n < len(payload); n++ {
				mustReject(t, d.name, d.decode, payload[:n])
			}
			// Trailing garbage is refused too.
			mustReject(t, d.name, d.decode, append(append([]byte{}, payload...), 0xc0))
			for _, other := range decoders {
				if _, err := safeDecode(other.decode, payload); err != nil && !errors.Is(err, codec.ErrMalformed) {
					t.Errorf("%s: %v", other.name, err)
				}
			}
		})
	}
}

// TestHostileShapes: JSON and msgpack of the wrong shape.
func TestHostileShapes(t *testing.T) {
	all := []int{0, 1, 2, 3}
	cases := []struct {
		name     string
		payload  string // JSON text, or hex when it starts with "0x"
		decoders []int
	}{
		{"empty", "", all},
		{"JSON array", `[]`, all},
		{"JSON string", `"x"`, all},
		{"JSON null", `null`, all},
		{"JSON number", `42`, all},
		{"JSON truncated", `{"type":`, all},
		{"JSON with trailing data", `{"type":1,"requestId":"r"} {}`, all},
		{"JSON leading space", ` {"type":1,"requestId":"r"}`, all},
		{"empty object", `{}`, []int{1, 2, 3}},
		{"type as string", `{"type":"1","requestId":"r"}`, []int{1, 3}},
		{"fractional type", `{"type":1.5,"requestId":"r"}`, []int{1, 3}},
		{"huge type", `{"type":1e300,"requestId":"r"}`, []int{1, 3}},
		{"overflowing number", `{"type":1e400,"requestId":"r"}`, []int{1, 2, 3}},
		{"broadcast map instead of array", "0x83a47479706502a464617461" + "91a165a36e7370a12f", []int{0}},
		{"broadcast of 2 elements", "0x92a17583a47479706502a46461746191a165a36e7370a12f", []int{0}},
		{"broadcast with null opts", "0x93a17583a47479706502a46461746191a165a36e7370a12fc0", []int{0}},
		{"broadcast packet type 7", "0x93a17583a47479706507a46461746191a165a36e7370a12f80", []int{0}},
		{"broadcast packet type -1", "0x93a17583a474797065ffa46461746191a165a36e7370a12f80", []int{0}},
		{"broadcast without packet type", "0x93a17582a46461746191a165a36e7370a12f80", []int{0}},
		{"broadcast empty data", "0x93a17583a47479706502a46461746190a36e7370a12f80", []int{0}},
		{"broadcast numeric event", "0x93a17583a47479706502a4646174619101a36e7370a12f80", []int{0}},
		{"broadcast unknown extension", "0x93a17583a47479706502a46461746192a165d40101a36e7370a12f80", []int{0}},
		{"broadcast legacy undefined", "0x93a17583a47479706502a46461746192a165d40000a36e7370a12f80", []int{0}},
		{"broadcast timestamp of 5 bytes", "0x93a17583a47479706502a46461746192a165c705ff0000000000a36e7370a12f80", []int{0}},
		{"broadcast invalid code 0xc1", "0x93a17583a47479706502a46461746192a165c1a36e7370a12f80", []int{0}},
		{"broadcast map key is an array", "0x93a17583a47479706502a46461746191a165a36e7370a12f81" + "91a1" + "61c0", []int{0}},
		{"broadcast map key is a map", "0x93a17584a47479706502a46461746191a165a36e7370a12f80c080", []int{0}},
		{"broadcast map key is a timestamp", "0x93a17583a47479706502a46461746191a165a36e7370a12f81d6ff00000000c0", []int{0}},
		{"broadcast timeout of a year", "0x93a17583a47479706502a46461746191a165a36e7370a12f81a5666c61677381a774696d656f7574ce7fffffff", []int{0}},
		{"broadcast negative timeout", "0x93a17583a47479706502a46461746191a165a36e7370a12f81a5666c61677381a774696d656f7574ff", []int{0}},
		{"request without type", `{"uid":"u","requestId":"r"}`, []int{1}},
		{"request negative requestId type", `{"type":6,"requestId":[],"data":["e"]}`, []int{1}},
		{"server-side emit without data", `{"type":6,"uid":"u"}`, []int{1}},
		{"server-side emit with empty data", `{"type":6,"uid":"u","data":[]}`, []int{1}},
		{"server-side emit numeric event", `{"type":6,"uid":"u","data":[1]}`, []int{1}},
		{"join with null opts", `{"type":2,"opts":null,"rooms":["r"]}`, []int{1}},
		{"join with opts array", `{"type":2,"opts":[],"rooms":["r"]}`, []int{1}},
		{"join with rooms object", `{"type":2,"opts":{"rooms":[],"except":[]},"rooms":{}}`, []int{1}},
		{"join with boolean room", `{"type":2,"opts":{"rooms":[true],"except":[]},"rooms":[]}`, []int{1}},
		{"legacy join with numeric sid", `{"type":2,"requestId":"r","sid":1,"room":"x"}`, []int{1}},
		{"disconnect with string close", `{"type":4,"opts":{"rooms":[],"except":[]},"close":"yes"}`, []int{1}},
		{"broadcast request without packet", "0x83a47479706507a9726571756573744964a172a46f70747380", []int{1}},
		{"response without requestId", `{"type":8,"clientCount":1}`, []int{2}},
		{"response with negative clientCount", `{"type":8,"requestId":"r","clientCount":-1}`, []int{2}},
		{"client count response without count", `{"type":8,"requestId":"r"}`, []int{2}},
		{"response with string clientCount", `{"type":8,"requestId":"r","clientCount":"1"}`, []int{2}},
		{"response with sockets object", `{"requestId":"r","sockets":{}}`, []int{2}},
		{"response with sockets string", `{"requestId":"r","sockets":"s"}`, []int{2}},
		{"response with socket without id", `{"requestId":"r","sockets":[{"rooms":[]}]}`, []int{2}},
		{"response with mixed sockets", `{"requestId":"r","sockets":["a",{"id":"b"}]}`, []int{2}},
		{"response with bad handshake", `{"requestId":"r","sockets":[{"id":"a","handshake":[]}]}`, []int{2}},
		{"response with bad header", `{"requestId":"r","sockets":[{"id":"a","handshake":{"headers":{"a":1}}}]}`, []int{2}},
		{"response with bad header list", `{"requestId":"r","sockets":[{"id":"a","handshake":{"headers":{"a":[1]}}}]}`, []int{2}},
		{"response with bad issued", `{"requestId":"r","sockets":[{"id":"a","handshake":{"issued":"now"}}]}`, []int{2}},
		{"response with bad rooms", `{"requestId":"r","rooms":"room"}`, []int{2}},
		{"cluster without type", `{"data":{},"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster uid number", `{"type":2,"uid":1,"nsp":"/"}`, []int{3}},
		{"cluster nsp array", `{"type":2,"uid":"u","nsp":[]}`, []int{3}},
		{"cluster broadcast without data", `{"type":3,"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster broadcast data array", `{"type":3,"data":[],"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster broadcast without opts", `{"type":3,"data":{"packet":{"type":2,"data":["e"]}},"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster fetch without requestId", `{"type":7,"data":{"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster response without requestId", `{"type":10,"data":{"packet":1},"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster client count missing", `{"type":11,"data":{"requestId":"r"},"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster client count negative", `{"type":11,"data":{"requestId":"r","clientCount":-3},"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster emit without packet", `{"type":9,"data":{},"uid":"u","nsp":"/"}`, []int{3}},
		{"cluster fetch response socket list", `{"type":8,"data":{"requestId":"r","sockets":["a"]},"uid":"u","nsp":"/"}`, []int{3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			payload := []byte(c.payload)
			if strings.HasPrefix(c.payload, "0x") {
				payload = wiretest.Hex(c.payload[2:])
			}
			for _, i := range c.decoders {
				mustReject(t, decoders[i].name, decoders[i].decode, payload)
			}
		})
	}
}

// TestUnknownTypes: unknown request and envelope types decode with
// their code so that the caller can ignore them (Node ignores them too).
func TestUnknownTypes(t *testing.T) {
	r, err := DecodeRequest([]byte(`{"uid":"u","type":42,"whatever":[1]}`))
	if err != nil || r.Type != 42 || r.Type.String() != "RequestType(42)" {
		t.Errorf("request type 42: %+v %v", r, err)
	}
	m, err := DecodeEnvelope([]byte(`{"type":99,"data":"x","uid":"u","nsp":"/"}`))
	if err != nil || m.Type != 99 || m.UID != "u" || m.Type.String() != "MessageType(99)" {
		t.Errorf("cluster type 99: %+v %v", m, err)
	}
	m, err = DecodeEnvelope([]byte(`{"type":2,"uid":"u","nsp":"/"}`))
	if err != nil || m.Type != MsgHeartbeat {
		t.Errorf("heartbeat: %+v %v", m, err)
	}
	for ty := RequestSockets; ty <= RequestBroadcastAck; ty++ {
		if strings.HasPrefix(ty.String(), "RequestType(") {
			t.Errorf("%d has no name", ty)
		}
	}
	for ty := MsgInitialHeartbeat; ty <= MsgAdapterClose; ty++ {
		if strings.HasPrefix(ty.String(), "MessageType(") {
			t.Errorf("%d has no name", ty)
		}
	}
	if MessageType(0).String() != "MessageType(0)" {
		t.Error(MessageType(0).String())
	}
}

// category names the JSON type of a value, for the field mutation test.
func category(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case []byte:
		return "binary"
	}
	return fmt.Sprintf("%T", v)
}

var wrongValues = []any{"str", 1.5, 7.0, true, nil, []any{}, []any{"x"}, map[string]any{}, []byte{1}}

// mutationCase is a valid message and, for the fields whose type the
// decoder checks, the JSON types it accepts there. Every other type in a
// checked field must be refused; unchecked fields may hold anything.
type mutationCase struct {
	name    string
	decoder int
	msgpack bool
	base    string // JSON text of the valid message
	strict  map[string][]string
}

func TestHostileWrongTypes(t *testing.T) {
	str, num, null, arr, object, boolean := "string", "number", "null", "array", "object", "bool"
	flagPaths := func(prefix string) map[string][]string {
		return map[string][]string{
			prefix:                           {object, null},
			prefix + "/volatile":             {boolean, null},
			prefix + "/compress":             {boolean, null},
			prefix + "/local":                {boolean, null},
			prefix + "/expectSingleResponse": {boolean, null},
			prefix + "/timeout":              {null}, // whole numbers only: 7 is fine, see below
		}
	}
	merge := func(ms ...map[string][]string) map[string][]string {
		out := map[string][]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	optsPaths := func(prefix string, flags bool) map[string][]string {
		m := map[string][]string{
			prefix:             {object},
			prefix + "/rooms":  {arr, null},
			prefix + "/except": {arr, null},
		}
		m[prefix+"/rooms/0"] = []string{str, num}
		if flags {
			m = merge(m, flagPaths(prefix+"/flags"))
		}
		return m
	}
	packetPaths := func(prefix string, nsp bool) map[string][]string {
		m := map[string][]string{
			prefix:           {object},
			prefix + "/type": {},
			prefix + "/data": {arr},
			// The event name.
			prefix + "/data/0": {str},
		}
		if nsp {
			m[prefix+"/nsp"] = []string{str, null}
		}
		return m
	}
	socketPaths := func(prefix string) map[string][]string {
		return map[string][]string{
			prefix:                               {arr, null},
			prefix + "/0":                        {object},
			prefix + "/0/id":                     {str},
			prefix + "/0/rooms":                  {arr, null},
			prefix + "/0/handshake":              {object, null},
			prefix + "/0/handshake/headers":      {object, null},
			prefix + "/0/handshake/headers/host": {str, arr, null},
			prefix + "/0/handshake/query":        {object, null},
			prefix + "/0/handshake/time":         {str, null},
			prefix + "/0/handshake/address":      {str, null},
			prefix + "/0/handshake/url":          {str, null},
			prefix + "/0/handshake/xdomain":      {boolean, null},
			prefix + "/0/handshake/secure":       {boolean, null},
			prefix + "/0/handshake/issued":       {null}, // integers only
			prefix + "/0/handshake/query/EIO":    {str, arr, null},
			prefix + "/0/handshake/headers/x/0":  {str},
			prefix + "/0/handshake/headers/x":    {str, arr, null},
			prefix + "/0/rooms/0":                {str, num},
			prefix + "/0/handshake/query/list/0": {str},
		}
	}
	handshake := `{"headers":{"host":"h","x":["a","b"]},"time":"t","address":"a","xdomain":false,"secure":false,"issued":1,"url":"/","query":{"EIO":"4","list":["1"]},"auth":{"k":1}}`
	cases := []mutationCase{
		{name: "classic broadcast", decoder: 0, msgpack: true,
			base:   `["u",{"type":2,"data":["ev",1,{"a":[1]}],"nsp":"/"},{"rooms":["r"],"except":["x"],"flags":{"volatile":true,"compress":false,"timeout":1000,"expectSingleResponse":true,"local":false}}]`,
			strict: merge(map[string][]string{"": {arr}, "/0": {str}}, packetPaths("/1", true), optsPaths("/2", true))},
		{name: "server-side emit", decoder: 1,
			base:   `{"uid":"u","requestId":"r","type":6,"data":["ev",{"a":1}]}`,
			strict: map[string][]string{"": {object}, "/uid": {str, null}, "/requestId": {str, num, null}, "/type": {}, "/data": {arr}, "/data/0": {str}}},
		{name: "broadcast request", decoder: 1, msgpack: true,
			base: `{"uid":"u","requestId":"r","type":7,"packet":{"type":2,"data":["ev","x"],"nsp":"/"},"opts":{"rooms":["r"],"except":[],"flags":{"timeout":1000}}}`,
			strict: merge(map[string][]string{"": {object}, "/uid": {str, null}, "/requestId": {str, num, null}, "/type": {}},
				packetPaths("/packet", true), optsPaths("/opts", true))},
		{name: "join", decoder: 1,
			base:   `{"uid":"u","type":2,"opts":{"rooms":["r"],"except":["x"]},"rooms":["j"]}`,
			strict: merge(map[string][]string{"/rooms": {arr, null}, "/rooms/0": {str, num}}, optsPaths("/opts", false))},
		{name: "legacy leave", decoder: 1,
			base:   `{"uid":"u","requestId":"r","type":3,"sid":"s","room":"x"}`,
			strict: map[string][]string{"/sid": {str, null}, "/room": {str, null}}},
		{name: "disconnect", decoder: 1,
			base:   `{"uid":"u","type":4,"opts":{"rooms":["r"],"except":["x"]},"close":true}`,
			strict: merge(map[string][]string{"/close": {boolean, null}}, optsPaths("/opts", false))},
		{name: "fetch response", decoder: 2,
			base: `{"requestId":"r","sockets":[{"id":"s","handshake":` + handshake + `,"rooms":["s","r"],"data":{"x":1}}]}`,
			// A list of bare ids answers the legacy SOCKETS request.
			strict: merge(map[string][]string{"": {object}, "/requestId": {str, num, null}}, socketPaths("/sockets"),
				map[string][]string{"/sockets/0": {object, str}})},
		{name: "all rooms response", decoder: 2,
			base:   `{"requestId":"r","rooms":["a","b"]}`,
			strict: map[string][]string{"/rooms": {arr, null}, "/rooms/0": {str, num}}},
		{name: "client count response", decoder: 2,
			base:   `{"type":8,"requestId":"r","clientCount":3}`,
			strict: map[string][]string{"/type": {null}, "/clientCount": {}}},
		{name: "ack response", decoder: 2, msgpack: true,
			base:   `{"type":9,"requestId":"r","packet":{"x":[1,"y"]}}`,
			strict: map[string][]string{"/requestId": {str, num, null}}},
		{name: "cluster broadcast with ack", decoder: 3,
			base: `{"type":3,"data":{"packet":{"type":2,"data":["ev",1]},"requestId":"r","opts":{"rooms":["r"],"except":[],"flags":{"timeout":5}}},"uid":"u","nsp":"/"}`,
			strict: merge(map[string][]string{"": {object}, "/type": {}, "/uid": {str, null}, "/nsp": {str, null}, "/data": {object},
				"/data/requestId": {str, num, null}}, packetPaths("/data/packet", false), optsPaths("/data/opts", true))},
		{name: "cluster join", decoder: 3,
			base: `{"type":4,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"rooms":["j"]},"uid":"u","nsp":"/"}`,
			strict: merge(map[string][]string{"/data": {object}, "/data/rooms": {arr, null}, "/data/rooms/0": {str, num}},
				optsPaths("/data/opts", true))},
		{name: "cluster fetch response", decoder: 3, msgpack: true,
			base:   `{"type":8,"data":{"requestId":"r","sockets":[{"id":"s","handshake":` + handshake + `,"rooms":["s"],"data":null}]},"uid":"u","nsp":"/"}`,
			strict: merge(map[string][]string{"/data": {object}, "/data/requestId": {str, num}}, socketPaths("/data/sockets"))},
		{name: "cluster server-side emit", decoder: 3,
			base:   `{"type":9,"data":{"requestId":"r","packet":["ev",{"a":1}]},"uid":"u","nsp":"/"}`,
			strict: map[string][]string{"/data": {object}, "/data/packet": {arr}, "/data/packet/0": {str}}},
		{name: "cluster client count", decoder: 3,
			base:   `{"type":11,"data":{"requestId":"r","clientCount":2},"uid":"u","nsp":"/"}`,
			strict: map[string][]string{"/data": {object}, "/data/requestId": {str, num}, "/data/clientCount": {}}},
		{name: "cluster ack", decoder: 3,
			base:   `{"type":12,"data":{"requestId":"r","packet":{"ok":true}},"uid":"u","nsp":"/"}`,
			strict: map[string][]string{"/data": {object}, "/data/requestId": {str, num}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := genericJSON(t, []byte(c.base))
			d := decoders[c.decoder]
			enc := func(v any) []byte {
				var b []byte
				var err error
				if c.msgpack {
					b, err = codec.MarshalMsgpack(v)
				} else {
					b, err = codec.MarshalJSON(v)
				}
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			if _, err := d.decode(enc(base)); err != nil {
				t.Fatalf("base message refused: %v", err)
			}
			checked := 0
			for _, path := range treePaths(base, "") {
				for _, w := range wrongValues {
					if !c.msgpack && category(w) == "binary" {
						continue
					}
					mutated := setPath(deepCopy(base), path, w)
					payload := enc(mutated)
					_, err := safeDecode(d.decode, payload)
					if err != nil && !errors.Is(err, codec.ErrMalformed) {
						t.Errorf("%s = %#v: %v", path, w, err)
						continue
					}
					allowed, strict := c.strict[path]
					if !strict {
						continue
					}
					checked++
					ok := false
					for _, a := range allowed {
						if a == category(w) {
							ok = true
						}
					}
					// Whole numbers are fine where integers are expected.
					if w == 7.0 && (strings.HasSuffix(path, "/timeout") || strings.HasSuffix(path, "/issued") ||
						strings.HasSuffix(path, "/clientCount") || strings.HasSuffix(path, "/type")) {
						ok = true
					}
					if !ok && err == nil {
						t.Errorf("%s = %#v (%s) was accepted", path, w, category(w))
					}
				}
			}
			if checked == 0 {
				t.Error("no strict field was exercised")
			}
		})
	}
}

// treePaths lists the paths of every node of a generic tree ("" is the
// root, "/a/0" the first element of key a).
func treePaths(v any, prefix string) []string {
	out := []string{prefix}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			out = append(out, treePaths(e, fmt.Sprintf("%s/%d", prefix, i))...)
		}
	case map[string]any:
		for k, e := range x {
			out = append(out, treePaths(e, prefix+"/"+k)...)
		}
	}
	return out
}

func setPath(root any, path string, v any) any {
	if path == "" {
		return v
	}
	parts := strings.Split(path[1:], "/")
	cur := root
	for i, p := range parts {
		last := i == len(parts)-1
		switch x := cur.(type) {
		case []any:
			var idx int
			fmt.Sscan(p, &idx)
			if last {
				x[idx] = v
			} else {
				cur = x[idx]
			}
		case map[string]any:
			if last {
				x[p] = v
			} else {
				cur = x[p]
			}
		}
	}
	return root
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	}
	return v
}

// TestJSONShapeScan: brackets inside strings do not count, escaped quotes do
// not end strings, and the depth limit matches msgpack's.
func TestJSONShapeScan(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	ok := []string{
		`{"type":6,"uid":"u","data":["` + strings.Repeat("[{", 500) + `"]}`,
		`{"type":6,"uid":"u","data":["\"[[[[[[\\",` + nest(90) + `]}`,
		`{"type":6,"uid":"u","data":["e\\\\",` + nest(codec.MaxDepth-1) + `]}`,
	}
	for _, s := range ok {
		if _, err := DecodeRequest([]byte(s)); err != nil {
			t.Errorf("%.60s...: %v", s, err)
		}
	}
	bad := []string{
		`{"type":6,"uid":"u","data":["e",` + nest(codec.MaxDepth) + `]}`,
		`{"type":6,"uid":"u","data":["\\",` + nest(codec.MaxDepth+5) + `]}`,
	}
	for _, s := range bad {
		if _, err := DecodeRequest([]byte(s)); !errors.Is(err, codec.ErrMalformed) {
			t.Errorf("%.60s...: %v", s, err)
		}
	}
}
