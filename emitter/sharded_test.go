package emitter_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestShardedCluster drives two servers running redisadapter.NewSharded on a
// local 3-master Redis Cluster, in static and dynamic modes, from a sharded
// emitter configured with the same mode.
func TestShardedCluster(t *testing.T) {
	t.Parallel()
	cluster := redistest.StartCluster(t)
	for _, mode := range []emitter.SubscriptionMode{emitter.StaticMode, emitter.DynamicMode} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			key := "sio-" + string(mode) // keeps the two modes apart
			dynamic := mode != emitter.StaticMode
			start := func(name string) *siotest.Node {
				rdb := redis.NewClusterClient(cluster.Options())
				return siotest.StartNode(t, name, rdb, redisadapter.NewSharded(rdb,
					redisadapter.WithKey(key),
					redisadapter.WithSubscriptionMode(redisadapter.SubscriptionMode(mode)),
					redisadapter.WithRequestsTimeout(2*time.Second)))
			}
			admin := cluster.Client(t)
			// waitRoom waits until n servers listen on a room channel
			// (dynamic mode subscribes them asynchronously).
			waitRoom := func(t *testing.T, nsp, room string, n int64) {
				t.Helper()
				if !dynamic {
					return
				}
				ch := protocol.RoomChannel(key, nsp, room)
				siotest.Eventually(t, "subscription of "+ch, func() bool { return cluster.ShardNumSub(t, ch) >= n })
			}
			nodes := []*siotest.Node{start("n0"), start("n1")}
			n0, n1 := nodes[0], nodes[1]
			events := []string{"all", "room", "multi", "bin", "after-join", "after-leave", "disconnect"}
			c0 := n0.Dial(t, "/", nil, events...)
			c1 := n1.Dial(t, "/", nil, events...)
			a0 := n0.Dial(t, "/admin", nil, "adm", "disconnect")
			a1 := n1.Dial(t, "/admin", nil, "adm", "disconnect")
			for _, c := range []*siotest.Client{c0, c1} {
				waitRoom(t, "/", c.ID(), 1) // Go socket-id rooms have channels in dynamic mode
			}
			erdb := redis.NewClusterClient(cluster.Options())
			t.Cleanup(func() { _ = erdb.Close() })
			e := emitter.New(erdb, emitter.WithKey(key), emitter.WithSharded(true), emitter.WithSubscriptionMode(mode))

			t.Run("All", func(t *testing.T) {
				must(t, e.Emit("all", "x", 2))
				for _, c := range []*siotest.Client{c0, c1} {
					if got := c.Expect("all"); !reflect.DeepEqual(got, []any{"x", float64(2)}) {
						t.Fatalf("got %v", got)
					}
				}
				c0.ExpectNoMore("all")
				c1.ExpectNoMore("all")
			})

			t.Run("OneRoom", func(t *testing.T) {
				c1.Call("join", "r1")
				waitRoom(t, "/", "r1", 1)
				// A raw subscriber on the namespace channel sees the
				// broadcast in static mode only: dynamic mode uses the
				// room channel, on which only n1 listens.
				main := admin.SSubscribe(ctx(t), protocol.BroadcastChannel(key, "/"))
				defer main.Close()
				if _, err := main.Receive(ctx(t)); err != nil {
					t.Fatal(err)
				}
				must(t, e.To("r1").Emit("room", "x"))
				if got := c1.Expect("room"); !reflect.DeepEqual(got, []any{"x"}) {
					t.Fatalf("got %v", got)
				}
				c0.ExpectNone("room", 100*time.Millisecond)
				c1.ExpectNoMore("room")
				msg, err := main.ReceiveTimeout(ctx(t), 100*time.Millisecond)
				if dynamic && err == nil {
					t.Fatalf("dynamic mode published on the namespace channel: %v", msg)
				}
				if !dynamic && err != nil {
					t.Fatalf("static mode: nothing on the namespace channel: %v", err)
				}
			})

			t.Run("ToSocketID", func(t *testing.T) {
				must(t, e.To(c0.ID()).Emit("room", "direct"))
				if got := c0.Expect("room"); got[0] != "direct" {
					t.Fatalf("got %v", got)
				}
				c1.ExpectNone("room", 100*time.Millisecond)
				c0.ExpectNoMore("room")
			})

			t.Run("SeveralRoomsExceptBinary", func(t *testing.T) {
				c0.Call("join", "ra")
				must(t, e.To("ra", "r1").Emit("multi", 1))
				c0.Expect("multi")
				c1.Expect("multi")
				c0.ExpectNoMore("multi") // once, though in both rooms
				c1.ExpectNoMore("multi")
				must(t, e.Except("ra").Emit("bin", []byte{1, 2, 3}))
				if got := c1.Expect("bin"); !bytes.Equal(bytesOf(got[0]), []byte{1, 2, 3}) {
					t.Fatalf("got %#v", got)
				}
				c0.ExpectNone("bin", 100*time.Millisecond)
			})

			t.Run("AdminNamespace", func(t *testing.T) {
				must(t, e.Of("admin").Volatile().Emit("adm", 1))
				a0.Expect("adm")
				a1.Expect("adm")
				c0.ExpectNone("adm", 100*time.Millisecond)
			})

			t.Run("SocketsJoinLeave", func(t *testing.T) {
				must(t, e.SocketsJoin("everyone"))
				siotest.Eventually(t, "join on both servers", func() bool {
					return hasRoom(n0, "/", "everyone") && hasRoom(n1, "/", "everyone")
				})
				waitRoom(t, "/", "everyone", 2)
				must(t, e.To("everyone").Emit("after-join"))
				c0.Expect("after-join")
				c1.Expect("after-join")
				must(t, e.In("everyone").SocketsLeave("everyone"))
				siotest.Eventually(t, "leave on both servers", func() bool {
					return !hasRoom(n0, "/", "everyone") && !hasRoom(n1, "/", "everyone")
				})
				must(t, e.To("everyone").Emit("after-leave"))
				c0.ExpectNone("after-leave", 100*time.Millisecond)
				c1.ExpectNone("after-leave", 0)
			})

			t.Run("ServerSideEmit", func(t *testing.T) {
				got := collectServerSide(nodes, "/", "sse")
				must(t, e.ServerSideEmit("sse", "a", 1))
				expectServerSide(t, got, "n0[a 1]", "n1[a 1]")
			})

			t.Run("ExactlyOnce", func(t *testing.T) {
				checkExactlyOnce(t, e, nodes, func(t *testing.T, room string, n int64) { waitRoom(t, "/", room, n) })
			})

			// Last: it disconnects the /admin clients.
			t.Run("DisconnectSockets", func(t *testing.T) {
				waitRoom(t, "/admin", a1.ID(), 1)
				admin := e.Of("admin")
				must(t, admin.In(a1.ID()).DisconnectSockets(true))
				a1.Expect("disconnect")
				a0.ExpectNone("disconnect", 100*time.Millisecond)
				must(t, admin.DisconnectSockets(false))
				a0.Expect("disconnect")
				c0.ExpectNone("disconnect", 0)
				c1.ExpectNone("disconnect", 0)
			})
		})
	}
}
