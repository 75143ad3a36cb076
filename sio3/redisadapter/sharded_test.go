package redisadapter_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// shardChannels lists the sharded channels with the given prefix on every
// master (PUBSUB SHARDCHANNELS only reports the node it runs on).
func shardChannels(t testing.TB, c *redistest.Cluster, pattern string) []string {
	var out []string
	for _, m := range c.Masters(t) {
		chs, err := m.Client(t).PubSubShardChannels(siotest.Ctx(t), pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, chs...)
	}
	sort.Strings(out)
	return out
}

// TestShardedRoomChannels joins one socket to many rooms spread over many
// slots (and so over every master): each gets its channel, and leaving
// unsubscribes them all.
func TestShardedRoomChannels(t *testing.T) {
	c := redistest.StartCluster(t)
	rdb := redis.NewClusterClient(c.Options())
	n := siotest.StartNode(t, "n", rdb, redisadapter.NewSharded(rdb))
	cl := n.Dial(t, "/", nil)
	var s *socket.Socket
	siotest.Eventually(t, "socket", func() bool {
		v, ok := n.IO.Of("/", nil).Sockets().Load(socket.SocketId(cl.ID()))
		s = v
		return ok
	})
	const rooms = 200
	want := []string{protocol.RoomChannel(protocol.DefaultPrefix, "/", cl.ID())} // the Go socket id
	for i := 0; i < rooms; i++ {
		r := fmt.Sprintf("room-%d", i)
		s.Join(socket.Room(r))
		want = append(want, protocol.RoomChannel(protocol.DefaultPrefix, "/", r))
	}
	sort.Strings(want)
	pattern := protocol.DefaultPrefix + "#/#*"
	siotest.Eventually(t, "room channels subscribed", func() bool {
		got := shardChannels(t, c, pattern)
		// the main and private channels are there too
		return len(got) == len(want)+2
	})
	got := shardChannels(t, c, pattern)
	for _, w := range want {
		if i := sort.SearchStrings(got, w); i == len(got) || got[i] != w {
			t.Fatalf("channel %s not subscribed", w)
		}
	}
	perMaster := map[string]int{}
	for _, m := range c.Masters(t) {
		chs, _ := m.Client(t).PubSubShardChannels(siotest.Ctx(t), pattern).Result()
		perMaster[m.Addr()] = len(chs)
	}
	for addr, k := range perMaster {
		if k == 0 {
			t.Fatalf("no channel on master %s: %v", addr, perMaster)
		}
	}
	for i := 0; i < rooms; i++ {
		s.Leave(socket.Room(fmt.Sprintf("room-%d", i)))
	}
	siotest.Eventually(t, "room channels unsubscribed", func() bool {
		return len(shardChannels(t, c, pattern)) == 3 // main, private, socket id
	})
	cl.S.Disconnect()
	siotest.Eventually(t, "socket channel unsubscribed", func() bool {
		return len(shardChannels(t, c, pattern)) == 2
	})
}

// TestShardedNodeStyleToGoSocket simulates a Node sharded server in dynamic
// mode sending to(goSocketId): Node publishes it on P#N#<sid># because Go
// ids are not 20 characters long.
func TestShardedNodeStyleToGoSocket(t *testing.T) {
	c := redistest.StartCluster(t)
	rdb := redis.NewClusterClient(c.Options())
	n := siotest.StartNode(t, "n", rdb, redisadapter.NewSharded(rdb))
	cl := n.Dial(t, "/", nil, "private")
	ch := protocol.RoomChannel(protocol.DefaultPrefix, "/", cl.ID())
	admin := c.Client(t)
	siotest.Eventually(t, "socket channel", func() bool {
		res, _ := admin.PubSubShardNumSub(siotest.Ctx(t), ch).Result()
		return res[ch] == 1
	})
	payload, err := protocol.EncodeEnvelope(&protocol.Envelope{
		Type: protocol.MsgBroadcast, UID: "a1a1a1a1a1a1a1a1", Nsp: "/",
		Packet: protocol.Packet{Type: 2, Data: []any{"private", "hi"}},
		Opts:   protocol.Options{Rooms: []string{cl.ID()}, Except: []string{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.SPublish(siotest.Ctx(t), ch, payload).Err(); err != nil {
		t.Fatal(err)
	}
	if got := cl.Expect("private"); got[0] != "hi" {
		t.Fatalf("got %v", got)
	}
}

// chanOf exposes a test client's event channel to select on.
func chanOf(c *siotest.Client, ev string) <-chan []any { return c.Chan(ev) }
