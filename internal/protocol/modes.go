package protocol

// SubscriptionMode is the subscription mode of Node's createShardedAdapter:
// which channels sharded servers subscribe to, and so which channel a
// sharded publisher picks for a broadcast. redisadapter and emitter expose
// it under their own names (type aliases).
type SubscriptionMode string

const (
	// StaticMode: the namespace channel and the server's private channel
	// only; every broadcast goes through the namespace channel.
	StaticMode SubscriptionMode = "static"
	// DynamicMode (Node's default) adds one channel per public room present
	// on a server; socket-id rooms get none.
	DynamicMode SubscriptionMode = "dynamic"
	// DynamicPrivateMode adds a channel for every room, socket-id rooms
	// included.
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

// NodeSocketIDLength is the length of Node's socket ids. Node's dynamic mode
// treats a room of exactly this length as a socket id: published on the
// namespace channel, never subscribed.
const NodeSocketIDLength = 20

// ShardedBroadcastChannel is the channel on which a sharded publisher sends
// a broadcast without acknowledgements, as Node's computeChannel picks it:
// a single room gets its room channel in the dynamic modes (not a Node
// socket id in DynamicMode), everything else the namespace channel.
func ShardedBroadcastChannel(prefix, nsp string, rooms []string, mode SubscriptionMode) string {
	if len(rooms) == 1 && RoomHasChannel(rooms[0], mode) {
		return RoomChannel(prefix, nsp, rooms[0])
	}
	return BroadcastChannel(prefix, nsp)
}

// RoomHasChannel tells whether, in mode, a room gets a channel of its own as
// Node's publishers see it.
func RoomHasChannel(room string, mode SubscriptionMode) bool {
	switch mode {
	case DynamicPrivateMode:
		return true
	case DynamicMode:
		return len(room) != NodeSocketIDLength
	}
	return false
}
