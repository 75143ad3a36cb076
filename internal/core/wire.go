package core

import (
	"context"

	"github.com/sioredis/sioredis/internal/protocol"
)

// wire is one namespace's side of a wire format: the channels it listens
// on, how it encodes what the adapter sends and decodes what it receives,
// and where answers go. The adapter never looks at a channel or a message
// type; the wires never look at a socket.
type wire interface {
	// uid is a new uid of this server for the namespace, in the format's
	// shape.
	uid() string
	// newRequestID is a new request id in the format's shape.
	newRequestID() string
	// subscriptions are the channels the namespace listens on from the
	// start, with their handlers (run on the subscriber goroutine).
	subscriptions() map[sub]handler
	// countServers counts the servers subscribed to the namespace.
	countServers(ctx context.Context) (int64, error)
	// publishBroadcast publishes a broadcast without waiting for Redis;
	// ackID is "" for a broadcast without acknowledgements.
	publishBroadcast(p protocol.Packet, opts protocol.Options, ackID string) error
	// encodeRequest encodes an outgoing request or socket operation.
	encodeRequest(r *request) ([]byte, error)
	// publishRequest publishes an encoded request and waits until Redis
	// took it.
	publishRequest(ctx context.Context, kind Kind, payload []byte) error
	// fireAndForget publishes an encoded request without waiting.
	fireAndForget(kind Kind, payload []byte)
	// reply sends an answer to the server with uid to.
	reply(to string, r *reply)
	// roomChanged is told when a local room appears or disappears.
	roomChanged(room string, created bool)
	// roomChannels lists the room channels subscribed.
	roomChannels() []string
	// announce publishes a heartbeat or leave message of this server (a
	// protocol.Envelope of type 1, 2 or 13, whatever the format carries it
	// in), waiting until Redis took it when wait is set. Received ones go to
	// Adapter.onHeartbeat, on the subscriber goroutine.
	announce(ctx context.Context, m *protocol.Envelope, wait bool) error
	// peerSubscribed tells whether Redis still counts the subscription of
	// the server with uid (a departed member, see membership).
	peerSubscribed(ctx context.Context, uid string) (bool, error)
	// close stops what the wire runs besides the namespace's subscriptions.
	close(ctx context.Context)
}
