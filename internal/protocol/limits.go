package protocol

import "github.com/sioredis/sioredis/internal/codec"

// MaxMessageSize is the largest message the decoders accept (16 MiB, see
// [codec.MaxMessageSize]); the core drops bigger ones before they queue.
const MaxMessageSize = codec.MaxMessageSize
