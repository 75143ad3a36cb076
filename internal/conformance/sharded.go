package conformance

import (
	"fmt"
	"sort"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
)

// shardChannels lists the sharded channels with the given prefix on every
// master (PUBSUB SHARDCHANNELS only reports the node it runs on).
func shardChannels(t testing.TB, c *redistest.Cluster, pattern string) []string {
	var out []string
	for _, m := range c.Masters(t) {
		chs, err := m.Client(t).PubSubShardChannels(await.Ctx(t), pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, chs...)
	}
	sort.Strings(out)
	return out
}

// RunShardedRoomChannels joins one socket to many rooms spread over many
// slots (and so over every master): each gets its channel, and leaving
// unsubscribes them all.
func RunShardedRoomChannels(t *testing.T, b Binding) {
	c := redistest.StartCluster(t)
	n := b.Start(t, "n", redis.NewClusterClient(c.Options()), Config{Kind: Sharded})
	cl := n.Dial(t, "/", nil)
	var s LocalSocket
	await.Eventually(t, "socket", func() bool {
		v, ok := n.Socket("/", cl.ID())
		s = v
		return ok
	})
	const rooms = 200
	want := []string{protocol.RoomChannel(protocol.DefaultPrefix, "/", cl.ID())} // the Go socket id
	for i := 0; i < rooms; i++ {
		r := fmt.Sprintf("room-%d", i)
		s.Join(r)
		want = append(want, protocol.RoomChannel(protocol.DefaultPrefix, "/", r))
	}
	sort.Strings(want)
	pattern := protocol.DefaultPrefix + "#/#*"
	await.Eventually(t, "room channels subscribed", func() bool {
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
		chs, _ := m.Client(t).PubSubShardChannels(await.Ctx(t), pattern).Result()
		perMaster[m.Addr()] = len(chs)
	}
	for addr, k := range perMaster {
		if k == 0 {
			t.Fatalf("no channel on master %s: %v", addr, perMaster)
		}
	}
	for i := 0; i < rooms; i++ {
		s.Leave(fmt.Sprintf("room-%d", i))
	}
	await.Eventually(t, "room channels unsubscribed", func() bool {
		return len(shardChannels(t, c, pattern)) == 3 // main, private, socket id
	})
	cl.Disconnect()
	await.Eventually(t, "socket channel unsubscribed", func() bool {
		return len(shardChannels(t, c, pattern)) == 2
	})
}

// RunShardedNodeStyleToGoSocket simulates a Node sharded server in dynamic
// mode sending to(goSocketId): Node publishes it on P#N#<sid># because Go
// ids are not 20 characters long.
func RunShardedNodeStyleToGoSocket(t *testing.T, b Binding) {
	c := redistest.StartCluster(t)
	n := b.Start(t, "n", redis.NewClusterClient(c.Options()), Config{Kind: Sharded})
	cl := n.Dial(t, "/", nil, "private")
	ch := protocol.RoomChannel(protocol.DefaultPrefix, "/", cl.ID())
	admin := c.Client(t)
	await.Eventually(t, "socket channel", func() bool {
		res, _ := admin.PubSubShardNumSub(await.Ctx(t), ch).Result()
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
	if err := admin.SPublish(await.Ctx(t), ch, payload).Err(); err != nil {
		t.Fatal(err)
	}
	if got := cl.Expect("private"); got[0] != "hi" {
		t.Fatalf("got %v", got)
	}
}
