package redisadapter

import (
	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/socket"
)

// Local delivery.
//
// These re-implement the in-memory adapter's Broadcast and BroadcastWithAck
// with one difference: they do not attach a pre-encoded WebSocket frame to
// the packets. engine.io v2.5.0's WebSocket transport returns after writing a
// pre-encoded frame instead of continuing with the rest of its write batch
// (transports/websocket.go, send), so with the stock in-memory delivery a
// client loses every broadcast that was queued behind another one: bursts
// of broadcasts arrive as 2-4 out of 10 (zishang520/socket.io#101). Without
// the pre-encoded frame each packet takes the normal encoding path.

// deliver sends p to the local sockets selected by opts.
func (a *Adapter) deliver(p *parser.Packet, opts *socket.BroadcastOptions) {
	wo := writeOptions(opts)
	p.Nsp = a.name
	encoded := a.Nsp().Server().Encoder().Encode(p)
	a.apply(opts, func(s *socket.Socket) {
		if notify := s.NotifyOutgoingListeners(); notify != nil {
			notify(p)
		}
		write(s, encoded, wo)
	})
}

// deliverWithAck sends p to the local sockets selected by opts with an ack
// id, registers ack for each, and reports how many sockets got it.
func (a *Adapter) deliverWithAck(p *parser.Packet, opts *socket.BroadcastOptions, countCb func(uint64), ack socket.Ack) {
	wo := writeOptions(opts)
	p.Nsp = a.name
	// One id for every socket: the namespace's counter is shared, so it is
	// unique on each of them.
	id := a.Nsp().Ids()
	p.Id = &id
	encoded := a.Nsp().Server().Encoder().Encode(p)
	var n uint64
	a.apply(opts, func(s *socket.Socket) {
		n++
		s.Acks().Store(id, ack)
		if notify := s.NotifyOutgoingListeners(); notify != nil {
			notify(p)
		}
		write(s, encoded, wo)
	})
	countCb(n)
}

// write hands one encoded packet to a socket's engine connection. The common
// case, a packet encoded as one text buffer, gets a read-only view of the
// shared bytes instead of Client.WriteToEngine's deep copy per socket (a
// reader consumes only its own view; nothing writes to packet data once
// queued). Packets with binary attachments keep WriteToEngine, whose lock
// keeps their parts together.
func write(s *socket.Socket, encoded []types.BufferInterface, wo *socket.WriteOptions) {
	sb, ok := encoded[0].(*types.StringBuffer)
	if len(encoded) != 1 || !ok {
		s.Client().WriteToEngine(encoded, wo)
		return
	}
	conn := s.Client().Conn()
	if wo.Volatile && !conn.Transport().Writable() {
		return // as WriteToEngine: a volatile packet is dropped while the transport is busy
	}
	conn.Write(types.NewStringBuffer(sb.Bytes()), &wo.Options, nil)
}

func writeOptions(opts *socket.BroadcastOptions) *socket.WriteOptions {
	wo := &socket.WriteOptions{PreEncoded: true}
	if opts != nil && opts.Flags != nil {
		wo.Volatile = opts.Flags.Volatile
		wo.Compress = opts.Flags.Compress
	}
	return wo
}

// apply calls fn for each local socket in any of opts.Rooms (every socket
// when there are none) and in none of opts.Except, each socket once.
func (a *Adapter) apply(opts *socket.BroadcastOptions, fn func(*socket.Socket)) {
	sockets := a.Nsp().Sockets()
	except := map[socket.SocketId]struct{}{}
	if opts != nil && opts.Except != nil {
		for _, r := range opts.Except.Keys() {
			if ids, ok := a.Rooms().Load(r); ok {
				for _, id := range ids.Keys() {
					except[id] = struct{}{}
				}
			}
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
				if _, skip := seen[id]; skip {
					continue
				}
				if _, skip := except[id]; skip {
					continue
				}
				if s, ok := sockets.Load(id); ok {
					if seen != nil {
						seen[id] = struct{}{}
					}
					fn(s)
				}
			}
		}
		return
	}
	a.Sids().Range(func(id socket.SocketId, _ *types.Set[socket.Room]) bool {
		if _, skip := except[id]; !skip {
			if s, ok := sockets.Load(id); ok {
				fn(s)
			}
		}
		return true
	})
}
