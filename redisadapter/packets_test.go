package redisadapter_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestBroadcastOnlyCarriesEvents: a principal whose ACL only lets it
// publish broadcasts (PUBLISH / SPUBLISH on P#*) sends a DISCONNECT packet
// as a broadcast. It used to disconnect every client; it is dropped and
// counted, and clients keep receiving events.
func TestBroadcastOnlyCarriesEvents(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name    string
		mk      func(redis.UniversalClient, ...redisadapter.Option) *redisadapter.Builder
		rule    string
		publish func(t *testing.T, rdb *redis.Client, p protocol.Packet) error
	}{
		{"classic", redisadapter.New, "+publish", func(t *testing.T, rdb *redis.Client, p protocol.Packet) error {
			p.Nsp = "/"
			payload, err := protocol.EncodeBroadcast(&protocol.Broadcast{UID: "intruder", Packet: p})
			if err != nil {
				t.Fatal(err)
			}
			return rdb.Publish(siotest.Ctx(t), protocol.BroadcastChannel(protocol.DefaultPrefix, "/"), payload).Err()
		}},
		{"sharded", redisadapter.NewSharded, "+spublish", func(t *testing.T, rdb *redis.Client, p protocol.Packet) error {
			payload, err := protocol.EncodeEnvelope(&protocol.Envelope{Type: protocol.MsgBroadcast, UID: "intruder", Nsp: "/", Packet: p})
			if err != nil {
				t.Fatal(err)
			}
			return rdb.SPublish(siotest.Ctx(t), protocol.BroadcastChannel(protocol.DefaultPrefix, "/"), payload).Err()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb := redis.NewClient(srv.Options())
			b := tc.mk(rdb)
			n := siotest.StartNode(t, "n", rdb, b)
			cl := n.Dial(t, "/", nil, "news")
			intruder := aclClient(t, srv, "bcast-"+tc.name, "resetchannels", "&"+protocol.DefaultPrefix+"#*", tc.rule)
			if err := tc.publish(t, intruder, protocol.Packet{Type: 1, Data: []any{"bye"}}); err != nil {
				t.Fatal(err)
			}
			siotest.Eventually(t, "rejected packet counted", func() bool { return b.Stats().RejectedPackets == 1 })
			if err := tc.publish(t, intruder, protocol.Packet{Type: protocol.EventPacketType, Data: []any{"news", "still here"}}); err != nil {
				t.Fatal(err)
			}
			cl.Expect("news")
			time.Sleep(100 * time.Millisecond)
			if _, ok := n.IO.Of("/", nil).Sockets().Load(socket.SocketId(cl.ID())); !ok || !cl.S.Connected() {
				t.Fatal("the client was disconnected by a broadcast")
			}
		})
	}
}
