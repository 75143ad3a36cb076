package redisadapter

import (
	"github.com/sioredis/sioredis/wstransport"
	"github.com/zishang520/engine.io/v2/transports"
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
	w := newPacketWriter(a.Nsp().Server().Encoder().Encode(p), wo)
	a.apply(opts, func(s *socket.Socket) {
		if notify := s.NotifyOutgoingListeners(); notify != nil {
			notify(p)
		}
		w.write(s)
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
	w := newPacketWriter(a.Nsp().Server().Encoder().Encode(p), wo)
	var got []*socket.Socket
	a.apply(opts, func(s *socket.Socket) {
		got = append(got, s)
		s.Acks().Store(id, ack)
		if notify := s.NotifyOutgoingListeners(); notify != nil {
			notify(p)
		}
		w.write(s)
	})
	countCb(uint64(len(got)))
	return id, got
}

// packetWriter hands one encoded packet to many sockets' engine
// connections.
//
// The common case, a packet encoded as one text buffer, is not deep-copied
// per socket as Client.WriteToEngine does: a WebSocket connection under
// sioredis/wstransport gets the shared buffer itself (that transport reads
// packet data without consuming it), any other connection a read-only view
// of the shared bytes (a reader consumes only its own view; nothing writes
// to packet data once queued). Packets with binary attachments keep
// WriteToEngine, whose lock keeps their parts together.
type packetWriter struct {
	encoded []types.BufferInterface
	wo      *socket.WriteOptions
	text    *types.StringBuffer // nil unless the packet is one text buffer
	shared  bool                // wstransport serves WebSocket connections
}

func newPacketWriter(encoded []types.BufferInterface, wo *socket.WriteOptions) *packetWriter {
	w := &packetWriter{encoded: encoded, wo: wo}
	if sb, ok := encoded[0].(*types.StringBuffer); ok && len(encoded) == 1 {
		w.text = sb
		w.shared = wstransport.Installed()
	}
	return w
}

func (w *packetWriter) write(s *socket.Socket) {
	if w.text == nil {
		s.Client().WriteToEngine(w.encoded, w.wo)
		return
	}
	conn := s.Client().Conn()
	t := conn.Transport()
	if w.wo.Volatile && !t.Writable() {
		return // as WriteToEngine: a volatile packet is dropped while the transport is busy
	}
	var data types.BufferInterface = w.text
	if !w.shared || t.Name() != transports.WEBSOCKET {
		data = types.NewStringBuffer(w.text.Bytes())
	}
	conn.Write(data, &w.wo.Options, nil)
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
	// No map for the usual broadcast without excepts (a nil map reads as
	// empty).
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
