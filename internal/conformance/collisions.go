package conformance

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/rawclient"
	"github.com/sioredis/sioredis/internal/redistest"
)

// RunNamespaceNamedLikeARoomChannel: a client connecting to namespace
// "/ws-1#room" (allowed by a ^/ws-.+$ regexp) must not cut room "room" of
// "/ws-1" off from the other servers' broadcasts: both map to P#/ws-1#room#.
// Such a namespace is refused (served without Redis) and counted; the
// room keeps hearing broadcasts while and after the hostile client is there.
func RunNamespaceNamedLikeARoomChannel(t *testing.T, bd Binding) {
	srv := redistest.Start(t)
	for _, sharded := range []bool{false, true} {
		t.Run(modeName(sharded), func(t *testing.T) {
			ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
			a := bd.Start(t, "a", ra, Config{Kind: kindOf(sharded)})
			b := bd.Start(t, "b", rb, Config{Kind: kindOf(sharded)})
			for _, n := range []Node{a, b} {
				n.OnConnect(regexp.MustCompile(`^/ws-.+$`), "/ws-1", "room")
			}
			b.Namespace("/ws-1") // b has the namespace, without sockets
			victim := rawclient.Dial(t, a.URL(), "/ws-1", nil, false)
			await.Eventually(t, "victim in room", func() bool {
				return slices.Contains(adapter(t, a, "/ws-1").Rooms(), "room")
			})
			if sharded {
				// The room channel is subscribed asynchronously (dynamic
				// mode): a broadcast published before is not heard.
				ch := protocol.RoomChannel(protocol.DefaultPrefix, "/ws-1", "room")
				admin := srv.Client(t)
				await.Eventually(t, "room channel subscribed", func() bool {
					res, _ := admin.PubSubShardNumSub(await.Ctx(t), ch).Result()
					return res[ch] == 1
				})
			}
			emit := func(i int) {
				b.Emit(Target{Nsp: "/ws-1", Rooms: []string{"room"}}, "news", i)
			}
			emit(1)
			victim.ExpectExactly("news", 1)

			attacker := rawclient.Dial(t, a.URL(), "/ws-1#room", nil, false)
			if st := a.Stats(); st.RefusedNamespaces != 1 {
				t.Fatalf("RefusedNamespaces = %d, want 1", st.RefusedNamespaces)
			}
			if _, ok := a.Adapter("/ws-1#room"); ok {
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

// RunRoomNamedAfterServerUid: in sharded dynamic mode a room named after a
// server's uid has that server's private channel as its room channel. The
// room coming and going must not unsubscribe the private channel (answers
// to the server's requests would be lost), and answers must not be counted
// twice while the room exists.
func RunRoomNamedAfterServerUid(t *testing.T, bd Binding) {
	srv := redistest.Start(t)
	ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
	cfg := Config{Kind: Sharded, RequestsTimeout: 3 * time.Second}
	a := bd.Start(t, "a", ra, cfg)
	b := bd.Start(t, "b", rb, cfg)
	uidA := adapter(t, a, "/").Uid()
	private := protocol.PrivateChannel(protocol.DefaultPrefix, "/", uidA)

	ca := a.Dial(t, "/", nil)
	cb := b.Dial(t, "/", nil, "hi")
	fetch := func(from Node) (int, error) {
		s, err := from.FetchSockets(All)
		return len(s), err
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
	await.Eventually(t, "room channel", func() bool {
		for _, ch := range adapter(t, a, "/").ActiveRoomChannels() {
			if ch == private {
				return true
			}
		}
		return false
	})
	check("while the room exists")
	ca.Call("leave", uidA)
	await.Eventually(t, "room channel gone", func() bool {
		return len(adapter(t, a, "/").ActiveRoomChannels()) == 1 // ca's own id
	})
	n := rb.PubSubShardNumSub(await.Ctx(t), private).Val()[private]
	if n != 2 {
		t.Fatalf("SHARDNUMSUB %s = %d after a's room emptied, want 2 (a's private channel, b's room)", private, n)
	}
	check("after the room emptied")
	// A broadcast to the room reaches b's member once and nothing breaks.
	a.Emit(To(uidA), "hi", 1)
	cb.ExpectExactly("hi", 1)
}
