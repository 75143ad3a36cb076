package redisadapter

import (
	"context"
	"time"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/protocol"
)

// Connection state recovery (streams adapter).
//
// socket.io v2.5.0 calls PersistSession when a socket drops for a
// recoverable reason and RestoreSession when a client comes back with its
// pid and the offset of the last packet it got. The offsets are the stream
// entry ids: a broadcast appends its id to the event's arguments (Node's
// addOffsetIfNecessary), on the sending server (from XADD) and on the
// receiving ones (from XREAD).

// recovery tells whether the server has connection state recovery on.
func (a *Adapter) recovery() bool {
	return a.Nsp().Server().Opts().GetRawConnectionStateRecovery() != nil
}

// takesOffset tells whether a broadcast packet gets an offset: an event
// without ack id that is not volatile, with recovery on.
func (a *Adapter) takesOffset(p *parser.Packet, opts *socket.BroadcastOptions) bool {
	if p.Type != parser.EVENT && p.Type != parser.BINARY_EVENT || p.Id != nil {
		return false
	}
	if opts.Flags != nil && opts.Flags.Volatile {
		return false
	}
	return a.recovery()
}

// publishWithOffset adds the broadcast to the stream and appends its entry
// id to p's data. On a Redis error the packet is delivered without offset
// (counted and logged by the core), as Node does.
func (a *Adapter) publishWithOffset(p *parser.Packet, wp protocol.Packet, opts protocol.Options) {
	id, err := a.core.PublishBroadcastOffset(wp, opts)
	if err != nil || id == "" {
		return
	}
	if data, ok := p.Data.([]any); ok {
		p.Data = append(data, id)
	}
}

// BroadcastOffset delivers a broadcast read from the stream, with its
// offset when recovery is on (core.OffsetLocal).
func (l local) BroadcastOffset(p protocol.Packet, opts protocol.Options, offset string) {
	sp := socketPacket(p, l.a.name)
	so := socketOptions(opts)
	if l.a.takesOffset(sp, so) {
		if data, ok := sp.Data.([]any); ok {
			sp.Data = append(data, offset)
		}
	}
	l.a.deliver(sp, so)
}

// PersistSession stores the session of a socket that dropped, for
// socket.io's MaxDisconnectionDuration (or [WithMaxDisconnection] when
// that is 0), under sessionKeyPrefix + pid, as Node's streams adapter does.
// Only the streams adapter keeps sessions; the pub/sub adapters log and
// ignore the call (they cannot replay missed packets).
func (a *Adapter) PersistSession(s *socket.SessionToPersist) {
	if s == nil {
		return
	}
	var ttl time.Duration
	if csr := a.Nsp().Server().Opts().GetRawConnectionStateRecovery(); csr != nil {
		ttl = time.Duration(csr.MaxDisconnectionDuration()) * time.Millisecond
	}
	data, err := toWire(s.Data)
	if err != nil {
		data = nil
	}
	var rooms []string
	if s.Rooms != nil {
		rooms = roomsOf(s.Rooms)
	}
	if err := a.core.PersistSession(&protocol.Session{Sid: string(s.Sid), Pid: string(s.Pid), Rooms: rooms, Data: data}, ttl); err != nil {
		a.core.BroadcastFailed(err)
	}
}

// RestoreSession takes back the session of pid and the packets broadcast
// after offset that reached it, on whichever server the client comes back
// to. It returns (nil, nil) when the session expired or was taken, when
// offset is no longer in the stream (trimmed by MAXLEN) or when the client
// missed more than [WithMaxReplay] packets: socket.io then gives the client
// a fresh session (socket.Recovered() false). The namespace holds its live
// delivery until the restored socket is connected, so the client gets each
// packet once, in order: the replayed ones first, the live ones after.
func (a *Adapter) RestoreSession(pid socket.PrivateSessionId, offset string) (*socket.Session, error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.core.RequestsTimeout())
	defer cancel()
	r, err := a.core.RestoreSession(ctx, string(pid), offset)
	if r == nil {
		return nil, err
	}
	s := r.Session
	missed := make([]any, len(r.Missed))
	for i, d := range r.Missed {
		missed[i] = socketPacket(protocol.Packet{Type: protocol.EventPacketType, Data: d}, a.name).Data
	}
	a.restoring.Add(s.Sid, r.Release, a.core.HoldBound())
	return &socket.Session{
		SessionToPersist: &socket.SessionToPersist{
			Sid:   socket.SocketId(s.Sid),
			Pid:   socket.PrivateSessionId(s.Pid),
			Rooms: roomSet(s.Rooms),
			Data:  s.Data,
		},
		MissedPackets: missed,
	}, nil
}

// AddAll joins a socket to rooms. It is also how the adapter learns that
// a restored socket is connected: socket.io joins it to its own room once
// it is in the namespace's socket list, and the held live delivery resumes.
func (a *Adapter) AddAll(id socket.SocketId, rooms *types.Set[socket.Room]) {
	a.Adapter.AddAll(id, rooms)
	if rooms != nil && rooms.Has(socket.Room(id)) {
		if _, ok := a.Nsp().Sockets().Load(id); ok {
			a.restoring.Done(string(id))
		}
	}
}

// restoreAbandoned releases the hold of a restored socket that will not
// connect: socket.io v2.5.0 calls DelAll for it when a middleware refused
// it or its client left while the middlewares ran, and the held live
// delivery then resumes at once instead of at the hold's bound. A socket
// still in the namespace's list is a connected one leaving, whose hold, if
// any, its connect released.
func (a *Adapter) restoreAbandoned(id socket.SocketId) {
	if _, ok := a.Nsp().Sockets().Load(id); !ok {
		a.restoring.Done(string(id))
	}
}

var _ core.OffsetLocal = local{}
