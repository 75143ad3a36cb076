package protocol

import (
	"crypto/rand"
	"encoding/hex"
)

// EmitterUID is the uid Node's emitter (and ours) puts in its messages.
const EmitterUID = "emitter"

// uidChars is the alphabet of the uid2 npm package.
const uidChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// uid2 mirrors the uid2 npm package: n random bytes, each mapped mod 64 onto
// A-Z a-z 0-9 - _.
func uid2(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	for i, c := range b {
		b[i] = uidChars[c%64]
	}
	return string(b)
}

// NewClassicUID returns a 6-character uid2-style adapter uid, as the classic
// Node adapter creates one per (process, namespace).
func NewClassicUID() string { return uid2(6) }

// NewRequestID returns a uid2-style request id for classic requests. It is
// longer than Node's 6 characters to make collisions between the pending
// requests of different nodes negligible; Node treats it as an opaque string.
func NewRequestID() string { return uid2(12) }

// NewShardedUID returns 8 random bytes as 16 lowercase hex characters, the
// ClusterAdapter uid and request id format.
func NewShardedUID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
