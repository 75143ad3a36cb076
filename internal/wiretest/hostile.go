package wiretest

import (
	"bytes"
	"encoding/hex"
	"strings"
)

// Hex decodes a hex literal of a test; it panics on a typo.
func Hex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Bombs are msgpack and JSON payloads that claim or build huge structures
// from a few bytes: every decoder must reject them without allocating in
// proportion to the claim.
func Bombs() map[string][]byte {
	deepArray := append(bytes.Repeat([]byte{0x91}, 10000), 0xc0)
	deepMap := append(bytes.Repeat([]byte{0x81, 0xa0}, 10000), 0xc0)
	return map[string][]byte{
		"array32 of 4 billion":          {0xdd, 0xff, 0xff, 0xff, 0xff},
		"map32 of 2 billion":            {0xdf, 0x7f, 0xff, 0xff, 0xff},
		"str32 of 4 GiB":                {0xdb, 0xff, 0xff, 0xff, 0xff},
		"bin32 of 4 GiB":                {0xc6, 0xff, 0xff, 0xff, 0xff},
		"ext32 of 4 GiB":                {0xc9, 0xff, 0xff, 0xff, 0xff, 0xff},
		"array16 of 65535":              {0xdc, 0xff, 0xff},
		"map16 of 65535":                {0xde, 0xff, 0xff},
		"str16 of 65535":                {0xda, 0xff, 0xff, 0x61},
		"bin16 of 65535":                {0xc5, 0xff, 0xff},
		"array32 header cut":            {0xdd, 0xff, 0xff},
		"bomb inside a broadcast":       Hex("93a175dd7fffffff"),
		"bomb as the packet data":       Hex("93a17583a47479706502a464617461ddffffffffa36e7370a12f80"),
		"bomb as a map key":             Hex("81dbffffffffc0"),
		"bomb inside a request map":     Hex("82a474797065" + "07a67061636b6574dfffffffff"),
		"10k nested arrays":             deepArray,
		"10k nested maps":               deepMap,
		"10k nested JSON arrays":        append([]byte(`{"type":6,"data":`), bytes.Repeat([]byte("["), 10000)...),
		"10k nested JSON arrays closed": []byte(`{"type":6,"uid":"u","data":["e",` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `]}`),
		"10k nested JSON objects":       []byte(strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)),
	}
}
