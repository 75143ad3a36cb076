// Package codec writes and reads the bytes of Socket.IO's Redis messages as
// Node does: msgpack byte for byte as notepack.io, JSON as JSON.stringify.
// It knows the value model of those messages, not their schemas (package
// protocol).
//
// Encoders take wire value trees: nil, bool, string, float64 and every
// integer kind, []byte, time.Time, []any, map[string]any, [Object] (keys in
// the order given, as Node writes them) and [RawMsgpack]. [ToWire] turns any
// user value into such a tree; an encoder given another value normalises it
// the same way. Numbers take notepack.io's forms (the smallest integer form
// for integral values, float64 otherwise), map[string]any keys come in Go's
// map order in msgpack and sorted in JSON.
//
// Decoders accept arbitrary bytes: anyone who can PUBLISH to Redis can reach
// them. They return an error wrapping [ErrMalformed] for anything that is
// not well-formed, never panic, bound the message size ([MaxMessageSize]),
// the nesting depth ([MaxDepth]) and the number of decoded values (a few
// million, maps weighing more), and check every msgpack length header
// against the bytes that remain before anything is allocated. Msgpack is
// decoded in one pass by the package's decoder, which also serves [Tokens];
// JSON by encoding/json after a shape scan.
//
// Decoded values are what a JSON client would get: numbers are float64 (NaN
// and Infinity become nil, as JSON.stringify writes null), objects
// map[string]any with keys named as JavaScript names them, arrays []any;
// binary stays []byte and msgpack timestamps become the ISO string of the
// Date notepack.io would build (nil for an invalid Date).
package codec
