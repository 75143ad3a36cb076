// Package protocol holds the messages sioredis puts on Redis: the schemas of
// Node's @socket.io/redis-adapter 8.3 (classic and sharded),
// @socket.io/redis-streams-adapter 0.3 and @socket.io/redis-emitter 5.1, their
// channel names, uids and request ids. The bytes themselves are written and
// read by [codec]; this package decides what goes in them. It knows no
// Socket.IO implementation, so that the emitter stays light, and each
// binding converts between its own types and these.
//
// The message families:
//
//   - classic broadcasts: the msgpack array [uid, packet, opts] published on
//     P#N# or P#N#R# (see [EncodeBroadcast], [DecodeBroadcast]);
//   - classic requests and responses (RequestType 0-9) on P-request#N# and
//     P-response#N#[U#], JSON unless noted (see [Request], [Response]);
//   - ClusterAdapter envelopes {type, data, uid, nsp} used by the sharded
//     and streams adapters (MessageType 1-13, see [Envelope]); the streams
//     adapter stores them as stream entries ([StreamEntry]) and keeps the
//     sessions of connection state recovery ([Session]).
//
// Every decoder accepts arbitrary bytes: anyone who can PUBLISH to Redis can
// reach it. Decoders return an error wrapping [codec.ErrMalformed] for
// anything that is not a well-formed message and never panic; the codec
// bounds the message size ([MaxMessageSize]), the nesting depth and the
// number of decoded values. fetchSockets answers, the largest messages, are
// decoded straight into [SocketInfo] values through [codec.Tokens].
package protocol
