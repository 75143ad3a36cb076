package codec

import (
	"errors"
	"fmt"
)

// MaxMessageSize is the largest payload a decoder accepts (16 MiB). Bigger
// messages are rejected before any parsing: pub/sub payloads of Socket.IO
// events are small, and a decoded byte can cost tens of bytes of Go memory
// (the value budget caps the total).
const MaxMessageSize = 16 << 20

// MaxDepth bounds the nesting of arrays and maps in a decoded message and in
// a value being normalised by [ToWire].
const MaxDepth = 100

// decodeBudget bounds what one message may decode into, so that a payload
// made of tiny containers cannot turn MaxMessageSize bytes into gigabytes of
// Go values. A scalar costs 1, an array 1 plus its elements, a map
// mapCost plus 2 per entry (a Go map costs about 16 times a scalar). It
// allows millions of values, far more than any Socket.IO event carries.
const (
	decodeBudget = 1 << 22
	mapCost      = 16
)

// maxEncodeDepth stops the encoders on cyclic or absurdly deep trees
// (values that went through ToWire are at most MaxDepth deep).
const maxEncodeDepth = 1000

var errEncodeDepth = errors.New("sioredis: value nested too deeply (cycle?)")

// ErrMalformed is wrapped by every decoding error: the payload is not a
// message of the expected shape.
var ErrMalformed = errors.New("sioredis: malformed message")

// The decoders' limit errors are values: the checks that return them stay
// small enough to inline on the hot path.
var (
	errTooDeep = fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
	errTooMany = fmt.Errorf("%w: too many values", ErrMalformed)
)

// ErrUnsupportedValue reports a value that cannot be put on the wire (a
// function, a channel, a map with non-string keys, NaN...).
var ErrUnsupportedValue = errors.New("sioredis: value cannot be encoded")
