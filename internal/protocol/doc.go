// Package protocol is the single place that knows the bytes sioredis puts on
// Redis. It speaks the wire format of Node's @socket.io/redis-adapter 8.3
// (classic and sharded) and @socket.io/redis-emitter 5.1. It knows no
// Socket.IO implementation: it imports the standard library and codecs only,
// so that the emitter stays light, and each binding (redisadapter for
// socket.io v2) converts between its own types and these.
//
// Three message families live here:
//
//   - classic broadcasts: the msgpack array [uid, packet, opts] published on
//     P#N# or P#N#R# (see [EncodeBroadcast], [DecodeBroadcast]);
//   - classic requests and responses (RequestType 0-9) on P-request#N# and
//     P-response#N#[U#], JSON unless noted (see [Request], [Response]);
//   - ClusterAdapter envelopes {type, data, uid, nsp} used by the sharded
//     adapter (MessageType 1-13, see [Envelope]).
//
// Every decoder accepts arbitrary bytes: anyone who can PUBLISH to Redis can
// reach it. Decoders return an error wrapping [ErrMalformed] for anything that
// is not a well-formed message, never panic, bound the message size
// ([MaxMessageSize]), the nesting depth ([MaxDepth]) and the number of
// decoded values (a few million, maps weighing more), and check every msgpack
// length header against the bytes that remain before anything is allocated.
// Msgpack is decoded in a single pass by the package's own decoder; JSON by
// encoding/json after a shape scan.
//
// Decoded user values are normalized to what a JSON client would produce:
// numbers are float64 (NaN and Infinity become nil, as JSON.stringify writes
// null), objects map[string]any with keys named as JavaScript names them,
// arrays []any; binary stays []byte and msgpack timestamps become the ISO
// string of the Date notepack.io would build (nil for an invalid Date).
//
// Encoders write msgpack byte for byte as notepack.io does, and JSON as
// JSON.stringify does for the same values (map keys sorted, as Go maps have no
// order).
package protocol
