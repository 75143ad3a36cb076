package core

import "github.com/sioredis/sioredis/internal/protocol"

// binaryEventPacketType is Socket.IO's BINARY_EVENT packet type.
const binaryEventPacketType = 5

// broadcastable tells whether a received broadcast carries an EVENT or a
// BINARY_EVENT packet, the only ones Node's adapter and emitter broadcast
// (they write EVENT even with binary arguments). Any other type (CONNECT,
// DISCONNECT, ACK, CONNECT_ERROR) delivered to clients would let whoever
// may publish broadcasts disconnect them or forge acknowledgements: it is
// dropped, counted and logged.
func (a *Adapter) broadcastable(p protocol.Packet) bool {
	if p.Type == protocol.EventPacketType || p.Type == binaryEventPacketType {
		return true
	}
	a.stats.rejectedPackets.Add(1)
	a.log.warn("packet-type", "broadcast with a packet that is not an event dropped", "nsp", a.name, "type", p.Type)
	return false
}
