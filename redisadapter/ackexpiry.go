package redisadapter

import (
	"time"

	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/protocol"
)

// maxAckExpiry caps how long a remote broadcast's acknowledgement closures
// wait, whatever timeout the requester asked for.
const maxAckExpiry = 10 * time.Minute

// ackExpiry is how long the closures of a broadcast with acks received
// from another server wait for their clients: the requester's timeout
// (flags.timeout, Node's io.timeout(ms)), else the requests timeout, at
// most maxAckExpiry. The requester has given up by then, so a later
// acknowledgement would be dropped anyway.
func ackExpiry(opts protocol.Options, requests time.Duration) time.Duration {
	d := requests
	if t := opts.Flags.Timeout; t != nil && *t > 0 {
		d = *t
	}
	// Some slack, so that an acknowledgement on time still travels.
	d += time.Second
	return min(d, maxAckExpiry)
}

// expireAcks removes ack id from the sockets after d. socket.io keeps an
// acknowledgement closure on its socket until the client answers or
// disconnects, so a client that never answers would otherwise hold one per
// broadcast received from another server for as long as it is connected.
func (a *Adapter) expireAcks(id uint64, sockets []*socket.Socket, d time.Duration) {
	if len(sockets) == 0 {
		return
	}
	time.AfterFunc(d, func() {
		for _, s := range sockets {
			s.Acks().Delete(id)
		}
	})
}
