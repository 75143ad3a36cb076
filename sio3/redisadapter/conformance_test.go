package redisadapter_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// mode is one way of running the adapter; the conformance suite runs the
// same checks against each.
type mode struct {
	name    string
	sharded bool
	opts    []redisadapter.Option
	// client returns a new Redis client for one server.
	client func(t testing.TB) redis.UniversalClient
	// admin is a client the test uses to inspect Redis.
	admin redis.UniversalClient
	// cluster is the Redis Cluster of the sharded modes.
	cluster *redistest.Cluster
	// dynamic: single-room broadcasts travel on room channels subscribed
	// asynchronously, so tests wait for them.
	dynamic bool
}

func (m mode) start(t testing.TB, name string, extra ...redisadapter.Option) *siotest.Node {
	rdb := m.client(t)
	opts := append(append([]redisadapter.Option{redisadapter.WithRequestsTimeout(2 * time.Second)}, m.opts...), extra...)
	var b *redisadapter.Builder
	if m.sharded {
		b = redisadapter.NewSharded(rdb, opts...)
	} else {
		b = redisadapter.New(rdb, opts...)
	}
	return siotest.StartNode(t, name, rdb, b)
}

// waitRoom waits until n servers listen on the channel of room (dynamic
// sharded modes subscribe room channels asynchronously).
func (m mode) waitRoom(t testing.TB, nsp, room string, n int64) {
	t.Helper()
	if !m.dynamic {
		return
	}
	ch := protocol.RoomChannel(protocol.DefaultPrefix, nsp, room)
	siotest.Eventually(t, "subscription of "+ch, func() bool {
		return m.cluster.ShardNumSub(t, ch) >= n
	})
}

func classicMode(t *testing.T) mode {
	srv := redistest.Start(t)
	return mode{
		name:   "classic",
		client: func(t testing.TB) redis.UniversalClient { return redis.NewClient(srv.Options()) },
		admin:  srv.Client(t),
	}
}

func shardedMode(t *testing.T, c *redistest.Cluster, sm redisadapter.SubscriptionMode) mode {
	return mode{
		name:    "sharded-" + string(sm),
		sharded: true,
		opts:    []redisadapter.Option{redisadapter.WithSubscriptionMode(sm)},
		client:  func(t testing.TB) redis.UniversalClient { return redis.NewClusterClient(c.Options()) },
		admin:   c.Client(t),
		cluster: c,
		dynamic: sm != redisadapter.StaticMode,
	}
}

func TestConformanceClassic(t *testing.T) {
	runConformance(t, classicMode(t))
}

// TestConformanceClassicSpecificResponse is the classic mode with answers on
// each requester's own response channel.
func TestConformanceClassicSpecificResponse(t *testing.T) {
	m := classicMode(t)
	m.name = "classic-specific-response"
	m.opts = append(m.opts, redisadapter.WithPublishOnSpecificResponseChannel(true))
	runConformance(t, m)
}

func TestConformanceSharded(t *testing.T) {
	c := redistest.StartCluster(t)
	for _, sm := range []redisadapter.SubscriptionMode{redisadapter.StaticMode, redisadapter.DynamicMode, redisadapter.DynamicPrivateMode} {
		t.Run(string(sm), func(t *testing.T) { runConformance(t, shardedMode(t, c, sm)) })
	}
}

func bytesOf(v any) []byte {
	switch b := v.(type) {
	case []byte:
		return b
	case types.BufferInterface:
		return b.Bytes()
	}
	return nil
}

// runConformance checks every cross-server feature on a cluster of three
// servers with real clients on each.
func runConformance(t *testing.T, m mode) {
	events := []string{"burst", "all", "room", "multi", "exc", "bin", "vol", "direct", "after-join", "after-leave", "disconnect"}
	nodes := []*siotest.Node{m.start(t, "n0"), m.start(t, "n1"), m.start(t, "n2")}
	var clients []*siotest.Client
	for i, n := range nodes {
		clients = append(clients, n.Dial(t, "/", url.Values{"who": {fmt.Sprint("c", i)}}, events...))
	}
	c0, c1, c2 := clients[0], clients[1], clients[2]
	admin0 := nodes[0].Dial(t, "/admin", nil, "adm", "all")
	admin2 := nodes[2].Dial(t, "/admin", nil, "adm", "all")
	for _, c := range clients {
		m.waitRoom(t, "/", c.ID(), 1) // Go socket-id rooms in dynamic modes
	}

	t.Run("ServerCount", func(t *testing.T) {
		for _, n := range nodes {
			if got := n.IO.Of("/", nil).Adapter().ServerCount(); got != 3 {
				t.Fatalf("%s: ServerCount = %d, want 3", n.Name, got)
			}
		}
	})

	t.Run("BroadcastToAll", func(t *testing.T) {
		for i, n := range nodes {
			n.IO.Emit("all", float64(i), "from "+n.Name)
			for _, c := range clients {
				got := c.Expect("all")
				if !reflect.DeepEqual(got, []any{float64(i), "from " + n.Name}) {
					t.Fatalf("client got %v", got)
				}
			}
		}
		admin0.ExpectNone("all", 100*time.Millisecond) // other namespace
		for _, c := range clients {
			c.ExpectNoMore("all") // exactly once
		}
	})

	t.Run("Burst", func(t *testing.T) {
		// Back-to-back broadcasts, local and remote: none may be lost.
		const n = 20
		for i := 0; i < n; i++ {
			nodes[1].IO.Emit("burst", float64(i))
		}
		for _, c := range clients {
			seen := map[float64]bool{}
			for _, args := range c.ExpectExactly("burst", n) {
				seen[args[0].(float64)] = true
			}
			if len(seen) != n {
				t.Fatalf("client got %d distinct of %d", len(seen), n)
			}
		}
	})

	t.Run("OneRoom", func(t *testing.T) {
		c0.Call("join", "r1")
		c2.Call("join", "r1")
		m.waitRoom(t, "/", "r1", 2)
		nodes[1].IO.To("r1").Emit("room", "x")
		c0.Expect("room")
		c2.Expect("room")
		c1.ExpectNone("room", 200*time.Millisecond)
		c0.ExpectNoMore("room")
		c2.ExpectNoMore("room")
	})

	t.Run("SeveralRoomsAndExcept", func(t *testing.T) {
		c0.Call("join", "ra")
		c1.Call("join", "ra", "rb")
		m.waitRoom(t, "/", "ra", 2)
		nodes[2].IO.To("ra", "rb").Emit("multi", 1)
		c0.Expect("multi")
		c1.Expect("multi")
		c2.ExpectNone("multi", 200*time.Millisecond)
		c1.ExpectNoMore("multi") // once, though in both rooms
		c0.ExpectNoMore("multi")

		nodes[0].IO.Except("ra").Emit("exc", 2)
		c2.Expect("exc")
		c0.ExpectNone("exc", 200*time.Millisecond)
		c1.ExpectNone("exc", 0)
		c2.ExpectNoMore("exc")
		nodes[1].IO.To("ra").Except("rb").Emit("exc", 3)
		c0.Expect("exc")
		c1.ExpectNone("exc", 200*time.Millisecond)
		c0.ExpectNoMore("exc")
	})

	t.Run("ExactlyOnceOnTheWire", func(t *testing.T) {
		// Raw-frame recorders (one reader, no goroutine per packet) count
		// what each server wrote: a repeat here is the server's, not the
		// client library's.
		raws := make([]*siotest.RawClient, len(nodes))
		for i, n := range nodes {
			raws[i] = siotest.DialRaw(t, n.URL, "/", nil, true)
			m.waitRoom(t, "/", raws[i].ID, 1)
		}
		r0, r1, r2 := raws[0], raws[1], raws[2]
		r1.Call("join", "x1", "x2", "x3")
		r0.Call("join", "x1")
		m.waitRoom(t, "/", "x1", 2)
		m.waitRoom(t, "/", "x2", 1)
		m.waitRoom(t, "/", "x3", 1)
		// Every sender (local to r1 or not) and every way of targeting r1
		// more than once: it gets each message exactly once.
		targets := []struct {
			name   string
			op     func(n *siotest.Node) *socket.BroadcastOperator
			r1, r0 bool
		}{
			{"one-room", func(n *siotest.Node) *socket.BroadcastOperator { return n.IO.To("x2") }, true, false},
			{"several-rooms", func(n *siotest.Node) *socket.BroadcastOperator { return n.IO.To("x1", "x2", "x3") }, true, true},
			{"rooms-and-own-id", func(n *siotest.Node) *socket.BroadcastOperator {
				return n.IO.To("x1", "x2", socket.Room(r1.ID))
			}, true, true},
			{"own-id", func(n *siotest.Node) *socket.BroadcastOperator { return n.IO.To(socket.Room(r1.ID)) }, true, false},
			{"except", func(n *siotest.Node) *socket.BroadcastOperator { return n.IO.To("x1", "x2").Except("x3") }, false, true},
			{"except-own-id", func(n *siotest.Node) *socket.BroadcastOperator {
				return n.IO.Except(socket.Room(r1.ID), "nobody")
			}, false, true},
		}
		for _, tc := range targets {
			ev := "once-" + tc.name
			for i, n := range nodes {
				tc.op(n).Emit(ev, i)
			}
			want := func(in bool) int {
				if in {
					return len(nodes)
				}
				return 0
			}
			r1.ExpectExactly(ev, want(tc.r1))
			r0.ExpectExactly(ev, want(tc.r0))
		}
		for i, n := range nodes {
			n.IO.Emit("once-all", i)
		}
		for _, r := range raws {
			r.ExpectExactly("once-all", len(nodes))
		}
		r2.ExpectNoFrames("once-several-rooms")

		// Bursts from every server at once, to all and to several rooms:
		// each message once, and each sender's messages in order.
		const burst = 200
		var wg sync.WaitGroup
		for i, n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < burst; j++ {
					n.IO.Emit("once-burst", i, j)
					n.IO.To("x1", "x2").Emit("once-burst-rooms", i, j)
				}
			}()
		}
		wg.Wait()
		for _, r := range raws {
			checkBurst(t, r.ExpectExactly("once-burst", burst*len(nodes)), len(nodes), burst)
		}
		checkBurst(t, r1.ExpectExactly("once-burst-rooms", burst*len(nodes)), len(nodes), burst)
		checkBurst(t, r0.ExpectExactly("once-burst-rooms", burst*len(nodes)), len(nodes), burst)
		r2.ExpectNoFrames("once-burst-rooms")
	})

	t.Run("ToSocketID", func(t *testing.T) {
		nodes[0].IO.To(socket.Room(c2.ID())).Emit("direct", "hi")
		if got := c2.Expect("direct"); got[0] != "hi" {
			t.Fatalf("got %v", got)
		}
		c0.ExpectNone("direct", 200*time.Millisecond)
		c1.ExpectNone("direct", 0)
		c2.ExpectNoMore("direct")
	})

	t.Run("AdminNamespace", func(t *testing.T) {
		nodes[1].IO.Of("/admin", nil).Emit("adm", map[string]any{"n": 1})
		for _, c := range []*siotest.Client{admin0, admin2} {
			got := c.Expect("adm")
			if !reflect.DeepEqual(got, []any{map[string]any{"n": float64(1)}}) {
				t.Fatalf("admin client got %v", got)
			}
		}
		c0.ExpectNone("adm", 100*time.Millisecond)
	})

	t.Run("Binary", func(t *testing.T) {
		nodes[0].IO.Emit("bin", []byte{1, 2, 3}, map[string]any{"k": []byte{4, 5}}, types.NewBytesBuffer([]byte{6}))
		for _, c := range clients {
			got := c.Expect("bin")
			if len(got) != 3 || !bytes.Equal(bytesOf(got[0]), []byte{1, 2, 3}) ||
				!bytes.Equal(bytesOf(got[1].(map[string]any)["k"]), []byte{4, 5}) ||
				!bytes.Equal(bytesOf(got[2]), []byte{6}) {
				t.Fatalf("binary arrived as %#v", got)
			}
		}
	})

	t.Run("VolatileAndCompress", func(t *testing.T) {
		// A volatile packet is dropped, by design, for a socket whose
		// transport is busy at that moment (a heartbeat, say): retry a few
		// times until every client got one.
		seen := make([]bool, len(clients))
		for attempt := 0; attempt < 5; attempt++ {
			nodes[2].IO.Volatile().Compress(true).Emit("vol", attempt)
			all := true
			for i, c := range clients {
				if seen[i] {
					continue
				}
				select {
				case <-c.Chan("vol"):
					seen[i] = true
				case <-time.After(time.Second):
					all = false
				}
			}
			if all {
				break
			}
		}
		for i, ok := range seen {
			if !ok {
				t.Fatalf("client %d got none of 5 volatile broadcasts", i)
			}
		}
	})

	t.Run("BroadcastWithAck", func(t *testing.T) {
		for _, c := range clients {
			c := c
			_ = c.S.On("ask", func(args ...any) {
				args[len(args)-1].(socket.Ack)([]any{"answer-" + c.ID()}, nil)
			})
		}
		done := make(chan struct{})
		var got []any
		var gotErr error
		start := time.Now()
		nodes[1].IO.Timeout(3*time.Second).EmitWithAck("ask", "q?")(func(args []any, err error) {
			got, gotErr = args, err
			close(done)
		})
		<-done
		if gotErr != nil {
			t.Fatalf("err = %v after %v (got %v)", gotErr, time.Since(start), got)
		}
		var want, have []string
		for _, c := range clients {
			want = append(want, "answer-"+c.ID())
		}
		for _, a := range got {
			have = append(have, a.(string))
		}
		sort.Strings(want)
		sort.Strings(have)
		if !slices.Equal(want, have) {
			t.Fatalf("acks %v, want %v", have, want)
		}
	})

	t.Run("FetchSockets", func(t *testing.T) {
		c1.Call("set-data", map[string]any{"user": "bob"})
		c1.Call("join", "fetch-room")
		var sockets []*socket.RemoteSocket
		var ferr error
		nodes[0].IO.In("fetch-room").FetchSockets()(func(s []*socket.RemoteSocket, err error) { sockets, ferr = s, err })
		if ferr != nil {
			t.Fatal(ferr)
		}
		if len(sockets) != 1 || string(sockets[0].Id()) != c1.ID() {
			t.Fatalf("got %d sockets", len(sockets))
		}
		s := sockets[0]
		if !s.Rooms().Has("fetch-room") || !s.Rooms().Has(socket.Room(c1.ID())) {
			t.Fatalf("rooms = %v", s.Rooms().Keys())
		}
		if !reflect.DeepEqual(s.Data(), map[string]any{"user": "bob"}) {
			t.Fatalf("data = %#v", s.Data())
		}
		if q, _ := s.Handshake().Query["who"].([]string); !slices.Equal(q, []string{"c1"}) {
			t.Fatalf("handshake query = %v", s.Handshake().Query)
		}
		if s.Handshake().Headers["User-Agent"] == nil || s.Handshake().Headers["Host"] == nil || s.Handshake().Issued == 0 {
			t.Fatalf("handshake = %+v", s.Handshake())
		}
		nodes[2].IO.FetchSockets()(func(s []*socket.RemoteSocket, err error) { sockets, ferr = s, err })
		if ferr != nil || len(sockets) != 3 {
			t.Fatalf("all sockets: %d, %v", len(sockets), ferr)
		}
	})

	t.Run("RemoteJoinLeaveDisconnect", func(t *testing.T) {
		nodes[0].IO.In(socket.Room(c2.ID())).SocketsJoin("joined")
		siotest.Eventually(t, "remote join", func() bool {
			_, ok := adapterOf(nodes[2], "/").Rooms().Load("joined")
			return ok
		})
		m.waitRoom(t, "/", "joined", 1)
		nodes[1].IO.To("joined").Emit("after-join", 1)
		c2.Expect("after-join")

		// A socket of the sender itself, through the same call.
		nodes[1].IO.In(socket.Room(c1.ID())).SocketsJoin("joined")
		if _, ok := adapterOf(nodes[1], "/").Rooms().Load("joined"); !ok {
			t.Fatal("local socket did not join")
		}

		nodes[0].IO.In("joined").SocketsLeave("joined")
		siotest.Eventually(t, "remote leave", func() bool {
			_, ok2 := adapterOf(nodes[2], "/").Rooms().Load("joined")
			_, ok1 := adapterOf(nodes[1], "/").Rooms().Load("joined")
			return !ok1 && !ok2
		})
		nodes[1].IO.To("joined").Emit("after-leave", 1)
		c2.ExpectNone("after-leave", 200*time.Millisecond)

		extra := nodes[2].Dial(t, "/", nil, "disconnect")
		nodes[0].IO.In(socket.Room(extra.ID())).DisconnectSockets(true)
		extra.Expect("disconnect")
		siotest.Eventually(t, "socket gone", func() bool {
			_, ok := nodes[2].IO.Of("/", nil).Sockets().Load(socket.SocketId(extra.ID()))
			return !ok
		})
	})

	t.Run("ServerSideEmit", func(t *testing.T) {
		got := make(chan string, 8)
		for _, n := range nodes {
			n := n
			_ = n.IO.On("sse", func(args ...any) { got <- fmt.Sprint(n.Name, args) })
			_ = n.IO.On("sse-ack", func(args ...any) {
				args[len(args)-1].(socket.Ack)([]any{"pong-" + n.Name}, nil)
			})
		}
		if err := nodes[0].IO.ServerSideEmit("sse", 1.5, "x"); err != nil {
			t.Fatal(err)
		}
		var seen []string
		for i := 0; i < 2; i++ {
			select {
			case s := <-got:
				seen = append(seen, s)
			case <-time.After(5 * time.Second):
				t.Fatalf("server-side emit reached %v only", seen)
			}
		}
		sort.Strings(seen)
		if !slices.Equal(seen, []string{"n1[1.5 x]", "n2[1.5 x]"}) {
			t.Fatalf("seen %v", seen)
		}
		select {
		case s := <-got:
			t.Fatalf("sender or duplicate got %s", s)
		case <-time.After(100 * time.Millisecond):
		}

		var answers []any
		var aerr error
		err := nodes[0].IO.ServerSideEmitWithAck("sse-ack", 1)(func(a []any, err error) { answers, aerr = a, err })
		if err != nil || aerr != nil {
			t.Fatal(err, aerr)
		}
		sort.Slice(answers, func(i, j int) bool { return fmt.Sprint(answers[i]) < fmt.Sprint(answers[j]) })
		if !reflect.DeepEqual(answers, []any{"pong-n1", "pong-n2"}) {
			t.Fatalf("answers %v", answers)
		}
	})

	t.Run("AllRooms", func(t *testing.T) {
		rooms, err := adapterOf(nodes[1], "/").AllRooms(siotest.Ctx(t))
		if m.sharded {
			if err == nil {
				t.Fatal("sharded AllRooms should report it is unsupported")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"r1", "ra", "rb", "fetch-room", c0.ID(), c2.ID()} {
			if !rooms.Has(socket.Room(r)) {
				t.Fatalf("AllRooms lacks %s: %v", r, rooms.Keys())
			}
		}
	})

	t.Run("SilentPeerTimesOut", func(t *testing.T) {
		// A peer that is subscribed (so it is counted) but never answers.
		mute := m.client(t)
		defer mute.Close()
		var ps *redis.PubSub
		if m.sharded {
			ps = mute.SSubscribe(siotest.Ctx(t), protocol.BroadcastChannel(protocol.DefaultPrefix, "/"))
		} else {
			ps = mute.Subscribe(siotest.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/"))
		}
		if _, err := ps.Receive(siotest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
		siotest.Eventually(t, "4 servers counted", func() bool {
			n, _ := adapterOf(nodes[0], "/").ServerCountContext(siotest.Ctx(t))
			return n == 4
		})
		start := time.Now()
		var sockets []*socket.RemoteSocket
		var ferr error
		nodes[0].IO.FetchSockets()(func(s []*socket.RemoteSocket, err error) { sockets, ferr = s, err })
		took := time.Since(start)
		if !errors.Is(ferr, redisadapter.ErrTimeout) {
			t.Fatalf("err = %v", ferr)
		}
		if took > 4*time.Second {
			t.Fatalf("returned after %v, timeout is 2s", took)
		}
		if len(sockets) != 3 {
			t.Fatalf("partial result has %d sockets, want the 3 that answered", len(sockets))
		}
		var aerr error
		_ = nodes[0].IO.ServerSideEmitWithAck("sse-ack", 1)(func(a []any, err error) { aerr = err })
		if !errors.Is(aerr, redisadapter.ErrTimeout) {
			t.Fatalf("serverSideEmit err = %v", aerr)
		}
		_ = ps.Close()
		siotest.Eventually(t, "3 servers counted", func() bool {
			n, _ := adapterOf(nodes[0], "/").ServerCountContext(siotest.Ctx(t))
			return n == 3
		})
		nodes[0].IO.FetchSockets()(func(s []*socket.RemoteSocket, err error) { sockets, ferr = s, err })
		if ferr != nil || len(sockets) != 3 {
			t.Fatalf("after the peer left: %d sockets, %v", len(sockets), ferr)
		}
	})

	t.Run("CloseLeavesNothing", func(t *testing.T) {
		for _, n := range nodes {
			n.Close()
		}
		siotest.AssertNoGoroutines(t, "sioredis/sio3/redisadapter.")
		if m.sharded {
			if n := m.cluster.ShardNumSub(t, protocol.BroadcastChannel(protocol.DefaultPrefix, "/")); n != 0 {
				t.Fatalf("%d subscribers left on the main channel", n)
			}
		} else {
			res, err := m.admin.PubSubNumSub(siotest.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/")).Result()
			if err != nil || res[protocol.RequestChannel(protocol.DefaultPrefix, "/")] != 0 {
				t.Fatalf("subscribers left: %v %v", res, err)
			}
		}
	})
}

func adapterOf(n *siotest.Node, nsp string) *redisadapter.Adapter {
	return n.IO.Of(nsp, nil).Adapter().(*redisadapter.Adapter)
}

// checkBurst checks that frames hold each (sender, j) of senders x n once and
// that each sender's come in order.
func checkBurst(t *testing.T, frames []siotest.Frame, senders, n int) {
	t.Helper()
	next := make([]int, senders)
	for _, f := range frames {
		i, j := int(f.Args[0].(float64)), int(f.Args[1].(float64))
		if j != next[i] {
			t.Fatalf("from server %d: message %d arrived when %d was due (frame #%d)", i, j, next[i], f.Seq)
		}
		next[i]++
	}
	for i, k := range next {
		if k != n {
			t.Fatalf("from server %d: %d of %d messages", i, k, n)
		}
	}
}
