package redisadapter

import (
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// expireAcks removes ack id from the sockets after d (core's AckExpiry): a
// broadcast with acks received from another server registers a closure on
// each socket, which socket.io keeps until the client answers or
// disconnects.
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
