package core

import "github.com/sioredis/sioredis/internal/protocol"

// Node's envelope (ClusterAdapter's message) is the format of the sharded
// and the streams wires: both apply a decoded envelope the same way.

// applyEnvelope applies another server's envelope on the worker; offset is
// the stream entry id of one read from a stream ("" on pub/sub).
func applyEnvelope(a *Adapter, m *protocol.Envelope, offset string) {
	if m.UID == a.uid || m.Nsp != a.name {
		a.stats.ignored.Add(1)
		return
	}
	if m.Type.IsResponse() {
		applyResponse(a, m)
		return
	}
	kind, ok := messageKinds[m.Type]
	if !ok {
		a.stats.ignored.Add(1)
		return
	}
	req := &request{kind: kind, from: m.UID, opts: m.Opts, rooms: m.Rooms, close: m.Close, data: m.EmitData}
	switch kind {
	case KindBroadcast:
		req.packet = m.Packet
		if m.HasRequestID {
			req.id = m.RequestID
		} else {
			req.offset = offset
		}
	case KindServerSideEmit:
		if m.HasRequestID {
			req.id, req.withAck = m.RequestID, true
		}
	default:
		req.id = m.RequestID
	}
	a.onRequest(req)
}

// applyResponse hands an answer to the request waiting for it.
func applyResponse(a *Adapter, m *protocol.Envelope) {
	kind, ok := messageKinds[m.Type]
	if !ok {
		a.stats.ignored.Add(1)
		return
	}
	a.onReply(&reply{kind: kind, id: m.RequestID, from: m.UID, sockets: m.Sockets, value: m.Value, count: m.ClientCount, tooLarge: m.TooLarge})
}
