package protocol

import "github.com/sioredis/sioredis"

// SubscriptionMode is sioredis.SubscriptionMode: the sharded format's
// channel choice.
type SubscriptionMode = sioredis.SubscriptionMode

// The modes.
const (
	StaticMode         = sioredis.StaticMode
	DynamicMode        = sioredis.DynamicMode
	DynamicPrivateMode = sioredis.DynamicPrivateMode
)

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
