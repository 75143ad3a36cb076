package core

import "fmt"

// Bounds of fetchSockets answers. A socket's description carries its
// handshake, which its client chooses (headers, query, auth): 20 clients
// with a 900 KB auth used to make an 18 MB answer, and 40 made Redis drop
// every server's subscriber for exceeding client-output-buffer-limit pubsub
// (32 MB by default). Descriptions and answers are therefore bounded where
// they are made, and an answer over the bound is replaced by an empty one
// marked too large, which the requester reports as ErrAnswerTooLarge.
const (
	// DefaultMaxHandshakeBytes bounds one socket's encoded handshake in
	// a fetchSockets answer; a larger one is left out (the socket is still
	// described, with an empty handshake).
	DefaultMaxHandshakeBytes = 64 << 10
	// DefaultMaxAnswerBytes bounds one encoded fetchSockets answer, well
	// under the decoders' 16 MiB and Redis' 32 MB pubsub buffer limit.
	DefaultMaxAnswerBytes = 8 << 20
)

// boundAnswer returns payload, the encoded answer to request id, unless it
// is a fetchSockets answer larger than the limit: then it counts, logs and
// returns encodeEmpty's answer (the same without sockets, marked too
// large).
func (a *Adapter) boundAnswer(kind Kind, id string, payload []byte, sockets int, encodeEmpty func() ([]byte, error)) ([]byte, error) {
	limit := a.cfg().MaxAnswerBytes
	if kind != KindFetchSockets || limit <= 0 || len(payload) <= limit {
		return payload, nil
	}
	a.stats.answersTooLarge.Add(1)
	a.log.warn("answer-too-large", "fetchSockets answer too large; an empty answer marked too large is sent instead",
		"nsp", a.name, "requestId", id, "sockets", sockets, "bytes", len(payload), "limit", limit,
		"err", ErrAnswerTooLarge)
	return encodeEmpty()
}

// answerTooLarge counts and logs an answer another server marked too
// large.
func (a *Adapter) answerTooLarge(id string) {
	a.stats.answersTooLarge.Add(1)
	a.log.warn("answer-too-large-received", "a server answered fetchSockets without its sockets (over its answer limit)",
		"nsp", a.name, "requestId", id, "err", ErrAnswerTooLarge)
}

// tooLargeError is the error of a fetchSockets that got n answers marked
// too large, joined to err (a timeout) if any.
func tooLargeError(n int, err error) error {
	e := fmt.Errorf("sioredis: fetchSockets: %d server(s) left their sockets out: %w", n, ErrAnswerTooLarge)
	if err == nil {
		return e
	}
	return fmt.Errorf("%w; %w", err, e)
}

// HandshakeTrimmed counts and logs a socket described without its
// handshake because the encoded handshake had size bytes, over
// MaxHandshakeBytes.
func (a *Adapter) HandshakeTrimmed(id string, size int) {
	a.stats.descriptionsTrimmed.Add(1)
	a.log.warn("handshake-too-large", "socket described without its handshake (over the per-socket limit)",
		"nsp", a.name, "socket", id, "bytes", size, "limit", a.cfg().MaxHandshakeBytes)
}
