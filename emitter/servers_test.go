package emitter_test

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

func hasRoom(n *siotest.Node, nsp, room string) bool {
	_, ok := n.IO.Of(nsp, nil).Adapter().Rooms().Load(socket.Room(room))
	return ok
}

// collectServerSide records the server-side emits of ev on the nodes.
func collectServerSide(nodes []*siotest.Node, nsp, ev string) chan string {
	got := make(chan string, 16)
	for _, n := range nodes {
		n := n
		n.IO.Of(nsp, nil).On(ev, func(args ...any) { got <- fmt.Sprint(n.Name, args) })
	}
	return got
}

func expectServerSide(t *testing.T, got chan string, want ...string) {
	t.Helper()
	var seen []string
	for range want {
		select {
		case s := <-got:
			seen = append(seen, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("server-side emit reached %v only, want %v", seen, want)
		}
	}
	sort.Strings(seen)
	if !slices.Equal(seen, want) {
		t.Fatalf("server-side emits %v, want %v", seen, want)
	}
	select {
	case s := <-got:
		t.Fatalf("duplicate server-side emit %s", s)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestClassicServers drives two real socket.io servers running the classic
// adapter (each with its own Redis client), with real clients on both, from
// an emitter on a third Redis client.
func TestClassicServers(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	start := func(name string) *siotest.Node {
		rdb := redis.NewClient(srv.Options())
		return siotest.StartNode(t, name, rdb, redisadapter.New(rdb, redisadapter.WithRequestsTimeout(2*time.Second)))
	}
	nodes := []*siotest.Node{start("n0"), start("n1")}
	n0, n1 := nodes[0], nodes[1]
	events := []string{"all", "room", "multi", "exc", "bin", "vol", "after-join", "after-leave", "only1", "disconnect"}
	c0 := n0.Dial(t, "/", nil, events...)
	c1 := n1.Dial(t, "/", nil, events...)
	a0 := n0.Dial(t, "/admin", nil, "adm", "all", "disconnect")
	a1 := n1.Dial(t, "/admin", nil, "adm", "all", "disconnect")
	clients := []*siotest.Client{c0, c1}
	e := emitter.New(srv.Client(t))

	t.Run("All", func(t *testing.T) {
		type user struct {
			Name string `json:"name"`
			Age  int    `json:"age,omitempty"`
		}
		must(t, e.Emit("all", 1, "x", user{Name: "bob"}, nil))
		for _, c := range clients {
			got := c.Expect("all")
			want := []any{float64(1), "x", map[string]any{"name": "bob"}, nil}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		}
		a0.ExpectNone("all", 100*time.Millisecond) // other namespace
		for _, c := range clients {
			c.ExpectNoMore("all") // exactly once
		}
	})

	t.Run("OneRoom", func(t *testing.T) {
		c0.Call("join", "r1")
		must(t, e.To("r1").Emit("room", "x"))
		if got := c0.Expect("room"); !reflect.DeepEqual(got, []any{"x"}) {
			t.Fatalf("got %v", got)
		}
		c1.ExpectNone("room", 100*time.Millisecond)
		c0.ExpectNoMore("room")
	})

	t.Run("SeveralRoomsAndExcept", func(t *testing.T) {
		c0.Call("join", "ra", "rb")
		c1.Call("join", "rb")
		must(t, e.To("ra", "rb").Emit("multi", 1))
		c0.Expect("multi")
		c1.Expect("multi")
		c0.ExpectNoMore("multi") // once, though in both rooms
		c1.ExpectNoMore("multi")

		must(t, e.Except("ra").Emit("exc", 2))
		c1.Expect("exc")
		c0.ExpectNone("exc", 100*time.Millisecond)
		must(t, e.To("rb").Except("ra").Emit("exc", 3))
		if got := c1.Expect("exc"); !reflect.DeepEqual(got, []any{float64(3)}) {
			t.Fatalf("got %v", got)
		}
		c0.ExpectNone("exc", 100*time.Millisecond)
	})

	t.Run("ToSocketID", func(t *testing.T) {
		must(t, e.To(c1.ID()).Emit("room", "direct"))
		if got := c1.Expect("room"); got[0] != "direct" {
			t.Fatalf("got %v", got)
		}
		c0.ExpectNone("room", 100*time.Millisecond)
		c1.ExpectNoMore("room")
	})

	t.Run("AdminNamespace", func(t *testing.T) {
		must(t, e.Of("admin").Emit("adm", map[string]any{"n": 1}))
		for _, c := range []*siotest.Client{a0, a1} {
			if got := c.Expect("adm"); !reflect.DeepEqual(got, []any{map[string]any{"n": float64(1)}}) {
				t.Fatalf("admin client got %v", got)
			}
		}
		c0.ExpectNone("adm", 100*time.Millisecond)
	})

	t.Run("Binary", func(t *testing.T) {
		must(t, e.Emit("bin", []byte{1, 2, 3}, map[string]any{"k": []byte{4, 5}}, bytes.NewReader([]byte{6}), strings.NewReader("s")))
		for _, c := range clients {
			got := c.Expect("bin")
			if len(got) != 4 || !bytes.Equal(bytesOf(got[0]), []byte{1, 2, 3}) ||
				!bytes.Equal(bytesOf(got[1].(map[string]any)["k"]), []byte{4, 5}) ||
				!bytes.Equal(bytesOf(got[2]), []byte{6}) || got[3] != "s" {
				t.Fatalf("binary arrived as %#v", got)
			}
		}
	})

	t.Run("VolatileCompress", func(t *testing.T) {
		must(t, e.Volatile().Compress(false).Emit("vol", 1))
		for _, c := range clients {
			c.Expect("vol")
		}
	})

	t.Run("SocketsJoinLeave", func(t *testing.T) {
		must(t, e.SocketsJoin("everyone"))
		siotest.Eventually(t, "join on both servers", func() bool {
			return hasRoom(n0, "/", "everyone") && hasRoom(n1, "/", "everyone")
		})
		must(t, e.To("everyone").Emit("after-join", 1))
		c0.Expect("after-join")
		c1.Expect("after-join")

		must(t, e.In(c1.ID()).SocketsJoin("only1", "only1b"))
		siotest.Eventually(t, "targeted join", func() bool { return hasRoom(n1, "/", "only1b") })
		if hasRoom(n0, "/", "only1") {
			t.Fatal("n0 joined a room meant for c1 only")
		}
		must(t, e.To("only1").Emit("only1"))
		c1.Expect("only1")
		c0.ExpectNone("only1", 100*time.Millisecond)

		must(t, e.In("everyone").Except("ra").SocketsLeave("everyone"))
		siotest.Eventually(t, "leave on n1", func() bool { return !hasRoom(n1, "/", "everyone") })
		if !hasRoom(n0, "/", "everyone") {
			t.Fatal("c0 (in ra) left though excepted")
		}
		must(t, e.SocketsLeave("everyone"))
		siotest.Eventually(t, "leave on n0", func() bool { return !hasRoom(n0, "/", "everyone") })
		must(t, e.To("everyone").Emit("after-leave", 1))
		c0.ExpectNone("after-leave", 100*time.Millisecond)
		c1.ExpectNone("after-leave", 0)
	})

	t.Run("ServerSideEmit", func(t *testing.T) {
		got := collectServerSide(nodes, "/", "sse")
		must(t, e.ServerSideEmit("sse", 1.5, "x"))
		expectServerSide(t, got, "n0[1.5 x]", "n1[1.5 x]")

		gotBin := collectServerSide(nodes, "/", "sse-bin")
		must(t, e.ServerSideEmit("sse-bin", []byte{1, 2}))
		expectServerSide(t, gotBin, "n0[[1 2]]", "n1[[1 2]]")

		gotAdmin := collectServerSide(nodes, "/admin", "sse-admin")
		must(t, e.Of("/admin").ServerSideEmit("sse-admin", map[string]any{"k": "v"}))
		expectServerSide(t, gotAdmin, "n0[map[k:v]]", "n1[map[k:v]]")
		select {
		case s := <-got:
			t.Fatalf("root namespace got %s", s)
		default:
		}
	})
	t.Run("ExactlyOnce", func(t *testing.T) {
		checkExactlyOnce(t, e, nodes, func(*testing.T, string, int64) {})
	})
	// Last: it disconnects the /admin clients.
	t.Run("DisconnectSockets", func(t *testing.T) {
		admin := e.Of("admin")
		must(t, admin.In(a1.ID()).DisconnectSockets(false))
		a1.Expect("disconnect")
		a0.ExpectNone("disconnect", 100*time.Millisecond)
		must(t, admin.DisconnectSockets(true))
		a0.Expect("disconnect")
		siotest.Eventually(t, "admin sockets gone", func() bool {
			return n0.IO.Of("/admin", nil).Sockets().Len() == 0 && n1.IO.Of("/admin", nil).Sockets().Len() == 0
		})
		c0.ExpectNone("disconnect", 0)
		c1.ExpectNone("disconnect", 0)
		if n0.IO.Of("/", nil).Sockets().Len() != 1 || n1.IO.Of("/", nil).Sockets().Len() != 1 {
			t.Fatal("root namespace sockets were disconnected")
		}
	})
}
