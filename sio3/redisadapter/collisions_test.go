package redisadapter_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// TestNamespaceNamedLikeARoomChannel: a client connecting to namespace
// "/ws-1#room" (allowed by a ^/ws-.+$ regexp) must not cut room "room" of
// "/ws-1" off from the other servers' broadcasts: both map to P#/ws-1#room#.
// Such a namespace is refused (served without Redis) and counted; the
// room keeps hearing broadcasts while and after the hostile client is there.
func TestNamespaceNamedLikeARoomChannel(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name string
		mk   func(redis.UniversalClient) *redisadapter.Builder
	}{
		{"classic", func(r redis.UniversalClient) *redisadapter.Builder { return redisadapter.New(r) }},
		{"sharded", func(r redis.UniversalClient) *redisadapter.Builder { return redisadapter.NewSharded(r) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
			ba := tc.mk(ra)
			a := siotest.StartNode(t, "a", ra, ba)
			b := siotest.StartNode(t, "b", rb, tc.mk(rb))
			for _, n := range []*siotest.Node{a, b} {
				_ = n.IO.Of(regexp.MustCompile(`^/ws-.+$`), func(args ...any) {
					s := args[0].(*socket.Socket)
					if s.Nsp().Name() == "/ws-1" {
						s.Join("room")
					}
				})
			}
			b.IO.Of("/ws-1", nil) // b has the namespace, without sockets
			victim := siotest.DialRaw(t, a.URL, "/ws-1", nil, false)
			siotest.Eventually(t, "victim in room", func() bool {
				_, ok := a.IO.Of("/ws-1", nil).Adapter().Rooms().Load("room")
				return ok
			})
			if tc.name == "sharded" {
				// The room channel is subscribed asynchronously (dynamic
				// mode): a broadcast published before is not heard.
				ch := protocol.RoomChannel(protocol.DefaultPrefix, "/ws-1", "room")
				admin := srv.Client(t)
				siotest.Eventually(t, "room channel subscribed", func() bool {
					res, _ := admin.PubSubShardNumSub(siotest.Ctx(t), ch).Result()
					return res[ch] == 1
				})
			}
			emit := func(i int) {
				b.IO.Of("/ws-1", nil).To("room").Emit("news", i)
			}
			emit(1)
			victim.ExpectExactly("news", 1)

			attacker := siotest.DialRaw(t, a.URL, "/ws-1#room", nil, false)
			if st := ba.Stats(); st.RefusedNamespaces != 1 {
				t.Fatalf("RefusedNamespaces = %d, want 1", st.RefusedNamespaces)
			}
			if _, ok := a.IO.Of("/ws-1#room", nil).Adapter().(*redisadapter.Adapter); ok {
				t.Fatal("namespace /ws-1#room got a Redis adapter")
			}
			emit(2)
			victim.ExpectExactly("news", 2)
			attacker.Close()
			emit(3)
			victim.ExpectExactly("news", 3)
			if f := attacker.Frames("news"); len(f) != 0 {
				t.Fatalf("the attacker's namespace received the room's broadcasts: %v", f)
			}
		})
	}
}

// TestRoomNamedAfterServerUid: in sharded dynamic mode a room named after a
// server's uid has that server's private channel as its room channel. The
// room coming and going must not unsubscribe the private channel (answers
// to the server's requests would be lost), and answers must not be counted
// twice while the room exists.
func TestRoomNamedAfterServerUid(t *testing.T) {
	srv := redistest.Start(t)
	ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
	opt := redisadapter.WithRequestsTimeout(3 * time.Second)
	a := siotest.StartNode(t, "a", ra, redisadapter.NewSharded(ra, opt))
	b := siotest.StartNode(t, "b", rb, redisadapter.NewSharded(rb, opt))
	uidA := a.IO.Of("/", nil).Adapter().(*redisadapter.Adapter).Uid()
	private := protocol.PrivateChannel(protocol.DefaultPrefix, "/", uidA)

	ca := a.Dial(t, "/", nil)
	cb := b.Dial(t, "/", nil, "hi")
	fetch := func(from *siotest.Node) (int, error) {
		var n int
		var err error
		from.IO.FetchSockets()(func(s []*socket.RemoteSocket, e error) { n, err = len(s), e })
		return n, err
	}
	check := func(step string) {
		t.Helper()
		n, err := fetch(a) // a asks, b answers on a's private channel
		if err != nil || n != 2 {
			t.Fatalf("%s: a's fetchSockets = %d sockets, %v; want 2, nil", step, n, err)
		}
	}
	check("before")
	// A client of b makes b's socket join a room named after a's uid...
	cb.Call("join", uidA)
	// ...and one of a's own sockets joins it too.
	ca.Call("join", uidA)
	siotest.Eventually(t, "room channel", func() bool {
		for _, ch := range a.IO.Of("/", nil).Adapter().(*redisadapter.Adapter).ActiveRoomChannels() {
			if ch == private {
				return true
			}
		}
		return false
	})
	check("while the room exists")
	ca.Call("leave", uidA)
	siotest.Eventually(t, "room channel gone", func() bool {
		return len(a.IO.Of("/", nil).Adapter().(*redisadapter.Adapter).ActiveRoomChannels()) == 1 // ca's own id
	})
	n := rb.PubSubShardNumSub(siotest.Ctx(t), private).Val()[private]
	if n != 2 {
		t.Fatalf("SHARDNUMSUB %s = %d after a's room emptied, want 2 (a's private channel, b's room)", private, n)
	}
	check("after the room emptied")
	// A broadcast to the room reaches b's member once and nothing breaks.
	a.IO.To(socket.Room(uidA)).Emit("hi", 1)
	cb.ExpectExactly("hi", 1)
}
