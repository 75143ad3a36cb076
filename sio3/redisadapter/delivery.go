package redisadapter

import (
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Local delivery.
//
// These re-implement the in-memory adapter's Broadcast and BroadcastWithAck
// without the pre-encoded WebSocket frame it attaches to every packet.
// engine.io v3.0.6 turns that frame into a gorilla PreparedMessage per
// socket and per packet (NewPreparedMessage, then a frame built through a
// throw-away connection), which cost more than half of a v3 server's CPU
// per delivery in the bench harness's fan-out (S5, profiled); a prepared
// message pays off only when shared by many connections. Without it each
// packet takes engine.io's normal encoding path: one frame written
// straight to the connection. (v3 no longer drops the packets queued behind
// a pre-encoded frame, which is why the v2 binding avoids it; here it is
// only a matter of cost.)

// deliver sends p to the local sockets selected by opts.
func (a *Adapter) deliver(p *parser.Packet, opts *socket.BroadcastOptions) {
	wo := writeOptions(opts)
	p.Nsp = a.name
	encoded := a.Nsp().Server().Encoder().Encode(p)
	a.apply(opts, func(s *socket.Socket) {
		if notify := s.NotifyOutgoingListeners(); notify != nil {
			notify(p)
		}
		s.Client().WriteToEngine(encoded, wo)
	})
}

// deliverWithAck sends p to the local sockets selected by opts with an ack
// id, registers ack for each, and reports how many sockets got it. It
// returns the id and the sockets (see expireAcks).
func (a *Adapter) deliverWithAck(p *parser.Packet, opts *socket.BroadcastOptions, countCb func(uint64), ack socket.Ack) (uint64, []*socket.Socket) {
	wo := writeOptions(opts)
	p.Nsp = a.name
	// One id for every socket: the namespace's counter is shared, so it is
	// unique on each of them.
	id := a.Nsp().Ids()
	p.Id = &id
	encoded := a.Nsp().Server().Encoder().Encode(p)
	var got []*socket.Socket
	a.apply(opts, func(s *socket.Socket) {
		got = append(got, s)
		s.Acks().Store(id, ack)
		if notify := s.NotifyOutgoingListeners(); notify != nil {
			notify(p)
		}
		s.Client().WriteToEngine(encoded, wo)
	})
	countCb(uint64(len(got)))
	return id, got
}

func writeOptions(opts *socket.BroadcastOptions) *socket.WriteOptions {
	wo := &socket.WriteOptions{PreEncoded: true}
	if opts != nil && opts.Flags != nil {
		wo.Volatile = opts.Flags.Volatile
		wo.Compress = opts.Flags.Compress
	}
	return wo
}

// apply calls fn for each connected local socket in any of opts.Rooms
// (every socket when there are none) and in none of opts.Except, each
// socket once.
func (a *Adapter) apply(opts *socket.BroadcastOptions, fn func(*socket.Socket)) {
	sockets := a.Nsp().Sockets()
	var except map[socket.SocketId]struct{}
	if opts != nil && opts.Except != nil && opts.Except.Len() > 0 {
		except = map[socket.SocketId]struct{}{}
		for _, r := range opts.Except.Keys() {
			if ids, ok := a.Rooms().Load(r); ok {
				for _, id := range ids.Keys() {
					except[id] = struct{}{}
				}
			}
		}
	}
	send := func(id socket.SocketId) {
		if _, skip := except[id]; skip {
			return
		}
		if s, ok := sockets.Load(id); ok && s.Connected() {
			fn(s)
		}
	}
	if opts != nil && opts.Rooms != nil && opts.Rooms.Len() > 0 {
		rooms := opts.Rooms.Keys()
		// A socket is in a room once: only several rooms need the
		// bookkeeping that sends to each socket once.
		var seen map[socket.SocketId]struct{}
		if len(rooms) > 1 {
			seen = map[socket.SocketId]struct{}{}
		}
		for _, r := range rooms {
			ids, ok := a.Rooms().Load(r)
			if !ok {
				continue
			}
			for _, id := range ids.Keys() {
				if seen != nil {
					if _, dup := seen[id]; dup {
						continue
					}
					seen[id] = struct{}{}
				}
				send(id)
			}
		}
		return
	}
	a.Sids().Range(func(id socket.SocketId, _ *types.Set[socket.Room]) bool {
		send(id)
		return true
	})
}
