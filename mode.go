package sioredis

// SubscriptionMode is the subscription mode of Node's createShardedAdapter:
// which channels sharded servers subscribe to, and so which channel a
// sharded publisher picks for a broadcast to one room. The adapter and the
// emitter of one cluster must agree on it.
type SubscriptionMode string

const (
	// StaticMode: servers subscribe only to the namespace channel P#N# (and
	// their private channel); every broadcast goes through P#N#.
	StaticMode SubscriptionMode = "static"
	// DynamicMode (Node's default): servers also subscribe to one channel
	// P#N#R# per public room they have members in. A broadcast to exactly
	// one room goes to that room's channel, unless the room has the 20
	// characters of a Node socket id, which goes to P#N#. Go servers also
	// subscribe to the channels of their own (24-character) socket ids, so
	// that a Node server's to(goSocketID) reaches them.
	DynamicMode SubscriptionMode = "dynamic"
	// DynamicPrivateMode: like DynamicMode, with a channel for every room,
	// socket-id rooms included.
	DynamicPrivateMode SubscriptionMode = "dynamic-private"
)

// Valid reports whether m is one of the three modes.
func (m SubscriptionMode) Valid() bool {
	switch m {
	case StaticMode, DynamicMode, DynamicPrivateMode:
		return true
	}
	return false
}
