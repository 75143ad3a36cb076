package protocol

import "strings"

// DefaultPrefix is the key prefix Node's adapter, emitter and sharded adapter
// use by default.
const DefaultPrefix = "socket.io"

// BroadcastChannel is the namespace-wide broadcast channel P#N#. The sharded
// adapter uses the same name as its main channel.
func BroadcastChannel(prefix, nsp string) string {
	return prefix + "#" + nsp + "#"
}

// RoomChannel is the channel P#N#R# of a broadcast to exactly one room. The
// room is put in verbatim, so it may contain '#'.
func RoomChannel(prefix, nsp, room string) string {
	return prefix + "#" + nsp + "#" + room + "#"
}

// BroadcastChannelFor applies the single-room rule of the classic adapter and
// the emitter: exactly one room selects the room channel, zero or several
// rooms the namespace channel. Except and flags do not matter.
func BroadcastChannelFor(prefix, nsp string, rooms []string) string {
	if len(rooms) == 1 {
		return RoomChannel(prefix, nsp, rooms[0])
	}
	return BroadcastChannel(prefix, nsp)
}

// BroadcastPattern is the PSUBSCRIBE pattern P#N#* that covers the namespace
// channel and every room channel. Glob characters in the prefix and the
// namespace are escaped so that they match literally.
func BroadcastPattern(prefix, nsp string) string {
	return escapeGlob(prefix+"#"+nsp+"#") + "*"
}

// RoomFromChannel extracts the room of a classic broadcast channel: the
// channel minus the P#N# prefix minus its last character, as Node does. It
// returns "" for the namespace channel and ok=false when the channel does not
// belong to the namespace.
func RoomFromChannel(prefix, nsp, channel string) (room string, ok bool) {
	base := BroadcastChannel(prefix, nsp)
	if !strings.HasPrefix(channel, base) {
		return "", false
	}
	rest := channel[len(base):]
	if rest == "" {
		return "", true
	}
	return rest[:len(rest)-1], true
}

// RequestChannel is the classic request channel P-request#N#.
func RequestChannel(prefix, nsp string) string {
	return prefix + "-request#" + nsp + "#"
}

// ResponseChannel is the shared classic response channel P-response#N#.
func ResponseChannel(prefix, nsp string) string {
	return prefix + "-response#" + nsp + "#"
}

// SpecificResponseChannel is the classic response channel of one node,
// P-response#N#U#.
func SpecificResponseChannel(prefix, nsp, uid string) string {
	return prefix + "-response#" + nsp + "#" + uid + "#"
}

// HeartbeatChannel is the channel P-heartbeat#N# that carries the
// heartbeats of Go servers in the classic format. Node's classic adapter
// does not subscribe to it, so it never sees them.
func HeartbeatChannel(prefix, nsp string) string {
	return prefix + "-heartbeat#" + nsp + "#"
}

// PrivateChannel is the sharded adapter's response channel of node uid,
// P#N#U#.
func PrivateChannel(prefix, nsp, uid string) string {
	return RoomChannel(prefix, nsp, uid)
}

// escapeGlob escapes the characters Redis glob patterns treat specially.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\^`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\', '^':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
