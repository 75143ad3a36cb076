package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/rawclient"
	"github.com/sioredis/sioredis/internal/redistest"
)

// Mode is one way of running the adapter; the conformance suite runs the
// same checks against each.
type Mode struct {
	Name string
	// Config selects the adapter (its requests timeout is the suite's).
	Config Config
	// Client returns a new Redis client for one server.
	Client func(t testing.TB) redis.UniversalClient
	// Admin is a client the test uses to inspect Redis.
	Admin redis.UniversalClient
	// Cluster is the Redis Cluster of the sharded modes.
	Cluster *redistest.Cluster
	// Dynamic: single-room broadcasts travel on room channels subscribed
	// asynchronously, so tests wait for them.
	Dynamic bool
}

func (m Mode) start(t testing.TB, b Binding, name string) Node {
	cfg := m.Config
	cfg.RequestsTimeout = 2 * time.Second
	return b.Start(t, name, m.Client(t), cfg)
}

// waitRoom waits until n servers listen on the channel of room (dynamic
// sharded modes subscribe room channels asynchronously).
func (m Mode) waitRoom(t testing.TB, nsp, room string, n int64) {
	t.Helper()
	if !m.Dynamic {
		return
	}
	ch := protocol.RoomChannel(protocol.DefaultPrefix, nsp, room)
	await.Eventually(t, "subscription of "+ch, func() bool {
		return m.Cluster.ShardNumSub(t, ch) >= n
	})
}

// ClassicMode is the classic adapter (New) on a Redis of its own.
func ClassicMode(t *testing.T) Mode {
	srv := redistest.Start(t)
	return Mode{
		Name:   "classic",
		Client: func(t testing.TB) redis.UniversalClient { return redis.NewClient(srv.Options()) },
		Admin:  srv.Client(t),
	}
}

// ShardedMode is the sharded adapter (NewSharded) in subscription mode sm
// on the Redis Cluster c.
func ShardedMode(t *testing.T, c *redistest.Cluster, sm sioredis.SubscriptionMode) Mode {
	return Mode{
		Name:    "sharded-" + string(sm),
		Config:  Config{Kind: Sharded, SubscriptionMode: sm},
		Client:  func(t testing.TB) redis.UniversalClient { return redis.NewClusterClient(c.Options()) },
		Admin:   c.Client(t),
		Cluster: c,
		Dynamic: sm != sioredis.StaticMode,
	}
}

// StreamsMode is the streams adapter (NewStreams: envelopes on P#N# over
// plain pub/sub, broadcasts on a stream) on a Redis of its own.
func StreamsMode(t *testing.T) Mode {
	srv := redistest.Start(t)
	return Mode{
		Name:   "streams",
		Config: Config{Kind: Streams},
		Client: func(t testing.TB) redis.UniversalClient { return redis.NewClient(srv.Options()) },
		Admin:  srv.Client(t),
	}
}

// StreamsClusterMode is the streams adapter on the Redis Cluster c: the
// stream and the session keys live on whichever masters their slots name,
// the ephemeral envelopes use classic pub/sub, which the Cluster relays to
// every node.
func StreamsClusterMode(t *testing.T, c *redistest.Cluster) Mode {
	return Mode{
		Name:   "streams-cluster",
		Config: Config{Kind: Streams},
		Client: func(t testing.TB) redis.UniversalClient { return redis.NewClusterClient(c.Options()) },
		Admin:  c.Client(t),
	}
}

// ShardedModes are the subscription modes the sharded suite runs in.
var ShardedModes = []sioredis.SubscriptionMode{sioredis.StaticMode, sioredis.DynamicMode, sioredis.DynamicPrivateMode}

// RunConformance checks every cross-server feature on a cluster of three
// servers of b, in mode m, with real clients on each.
func RunConformance(t *testing.T, b Binding, m Mode) {
	sharded, streams := m.Config.Kind == Sharded, m.Config.Kind == Streams
	events := []string{"burst", "all", "room", "multi", "exc", "bin", "vol", "direct", "after-join", "after-leave", "disconnect"}
	nodes := []Node{m.start(t, b, "n0"), m.start(t, b, "n1"), m.start(t, b, "n2")}
	var clients []Client
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
			if got := adapter(t, n, "/").ServerCount(); got != 3 {
				t.Fatalf("%s: ServerCount = %d, want 3", n.Name(), got)
			}
		}
	})

	t.Run("BroadcastToAll", func(t *testing.T) {
		for i, n := range nodes {
			n.Emit(All, "all", float64(i), "from "+n.Name())
			for _, c := range clients {
				got := c.Expect("all")
				if !reflect.DeepEqual(got, []any{float64(i), "from " + n.Name()}) {
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
			nodes[1].Emit(All, "burst", float64(i))
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
		nodes[1].Emit(To("r1"), "room", "x")
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
		nodes[2].Emit(To("ra", "rb"), "multi", 1)
		c0.Expect("multi")
		c1.Expect("multi")
		c2.ExpectNone("multi", 200*time.Millisecond)
		c1.ExpectNoMore("multi") // once, though in both rooms
		c0.ExpectNoMore("multi")

		nodes[0].Emit(All.Excluding("ra"), "exc", 2)
		c2.Expect("exc")
		c0.ExpectNone("exc", 200*time.Millisecond)
		c1.ExpectNone("exc", 0)
		c2.ExpectNoMore("exc")
		nodes[1].Emit(To("ra").Excluding("rb"), "exc", 3)
		c0.Expect("exc")
		c1.ExpectNone("exc", 200*time.Millisecond)
		c0.ExpectNoMore("exc")
	})

	t.Run("ExactlyOnceOnTheWire", func(t *testing.T) {
		// Raw-frame recorders (one reader, no goroutine per packet) count
		// what each server wrote: a repeat here is the server's, not the
		// client library's.
		raws := make([]*rawclient.Client, len(nodes))
		for i, n := range nodes {
			raws[i] = rawclient.Dial(t, n.URL(), "/", nil, true)
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
			to     Target
			r1, r0 bool
		}{
			{"one-room", To("x2"), true, false},
			{"several-rooms", To("x1", "x2", "x3"), true, true},
			{"rooms-and-own-id", To("x1", "x2", r1.ID), true, true},
			{"own-id", To(r1.ID), true, false},
			{"except", To("x1", "x2").Excluding("x3"), false, true},
			{"except-own-id", All.Excluding(r1.ID, "nobody"), false, true},
		}
		for _, tc := range targets {
			ev := "once-" + tc.name
			for i, n := range nodes {
				n.Emit(tc.to, ev, i)
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
			n.Emit(All, "once-all", i)
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
					n.Emit(All, "once-burst", i, j)
					n.Emit(To("x1", "x2"), "once-burst-rooms", i, j)
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
		nodes[0].Emit(To(c2.ID()), "direct", "hi")
		if got := c2.Expect("direct"); got[0] != "hi" {
			t.Fatalf("got %v", got)
		}
		c0.ExpectNone("direct", 200*time.Millisecond)
		c1.ExpectNone("direct", 0)
		c2.ExpectNoMore("direct")
	})

	t.Run("AdminNamespace", func(t *testing.T) {
		nodes[1].Emit(Target{Nsp: "/admin"}, "adm", map[string]any{"n": 1})
		for _, c := range []Client{admin0, admin2} {
			got := c.Expect("adm")
			if !reflect.DeepEqual(got, []any{map[string]any{"n": float64(1)}}) {
				t.Fatalf("admin client got %v", got)
			}
		}
		c0.ExpectNone("adm", 100*time.Millisecond)
	})

	t.Run("Binary", func(t *testing.T) {
		// []byte{1, 2, 3}, {"k": []byte{4, 5}} and a buffer of 6.
		nodes[0].Emit(All, "bin", b.Binary()...)
		for _, c := range clients {
			got := c.Expect("bin")
			if len(got) != 3 || !bytes.Equal(b.Bytes(got[0]), []byte{1, 2, 3}) ||
				!bytes.Equal(b.Bytes(got[1].(map[string]any)["k"]), []byte{4, 5}) ||
				!bytes.Equal(b.Bytes(got[2]), []byte{6}) {
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
			nodes[2].Emit(Target{Volatile: true, Compress: true}, "vol", attempt)
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
			c.Answer("ask", func([]any) []any { return []any{"answer-" + c.ID()} })
		}
		start := time.Now()
		got, gotErr := nodes[1].EmitWithAck(All, 3*time.Second, "ask", "q?")
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
		sockets, ferr := nodes[0].FetchSockets(To("fetch-room"))
		if ferr != nil {
			t.Fatal(ferr)
		}
		if len(sockets) != 1 || sockets[0].ID != c1.ID() {
			t.Fatalf("got %d sockets", len(sockets))
		}
		s := sockets[0]
		if !slices.Contains(s.Rooms, "fetch-room") || !slices.Contains(s.Rooms, c1.ID()) {
			t.Fatalf("rooms = %v", s.Rooms)
		}
		if !reflect.DeepEqual(s.Data, map[string]any{"user": "bob"}) {
			t.Fatalf("data = %#v", s.Data)
		}
		if q, _ := s.Query["who"].([]string); !slices.Equal(q, []string{"c1"}) {
			t.Fatalf("handshake query = %v", s.Query)
		}
		if s.Headers["User-Agent"] == nil || s.Headers["Host"] == nil || s.Issued == 0 {
			t.Fatalf("handshake = %+v", s)
		}
		sockets, ferr = nodes[2].FetchSockets(All)
		if ferr != nil || len(sockets) != 3 {
			t.Fatalf("all sockets: %d, %v", len(sockets), ferr)
		}
	})

	t.Run("RemoteJoinLeaveDisconnect", func(t *testing.T) {
		nodes[0].SocketsJoin(To(c2.ID()), "joined")
		await.Eventually(t, "remote join", func() bool {
			return hasRoom(t, nodes[2], "joined")
		})
		m.waitRoom(t, "/", "joined", 1)
		nodes[1].Emit(To("joined"), "after-join", 1)
		c2.Expect("after-join")

		// A socket of the sender itself, through the same call.
		nodes[1].SocketsJoin(To(c1.ID()), "joined")
		if !hasRoom(t, nodes[1], "joined") {
			t.Fatal("local socket did not join")
		}

		nodes[0].SocketsLeave(To("joined"), "joined")
		await.Eventually(t, "remote leave", func() bool {
			return !hasRoom(t, nodes[1], "joined") && !hasRoom(t, nodes[2], "joined")
		})
		nodes[1].Emit(To("joined"), "after-leave", 1)
		c2.ExpectNone("after-leave", 200*time.Millisecond)

		extra := nodes[2].Dial(t, "/", nil, "disconnect")
		nodes[0].DisconnectSockets(To(extra.ID()), true)
		extra.Expect("disconnect")
		await.Eventually(t, "socket gone", func() bool {
			return !nodes[2].HasSocket("/", extra.ID())
		})
	})

	t.Run("ServerSideEmit", func(t *testing.T) {
		got := make(chan string, 8)
		for _, n := range nodes {
			n := n
			n.On("sse", func(args []any) []any {
				got <- fmt.Sprint(n.Name(), args)
				return nil
			})
			n.On("sse-ack", func([]any) []any { return []any{"pong-" + n.Name()} })
		}
		if err := nodes[0].ServerSideEmit("sse", 1.5, "x"); err != nil {
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

		answers, err := nodes[0].ServerSideEmitWithAck("sse-ack", 1)
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(answers, func(i, j int) bool { return fmt.Sprint(answers[i]) < fmt.Sprint(answers[j]) })
		if !reflect.DeepEqual(answers, []any{"pong-n1", "pong-n2"}) {
			t.Fatalf("answers %v", answers)
		}
	})

	t.Run("AllRooms", func(t *testing.T) {
		rooms, err := adapter(t, nodes[1], "/").AllRooms(await.Ctx(t))
		if sharded || streams {
			if !errors.Is(err, sioredis.ErrNotSupported) {
				t.Fatalf("AllRooms should report it is unsupported in this format, got %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"r1", "ra", "rb", "fetch-room", c0.ID(), c2.ID()} {
			if !slices.Contains(rooms, r) {
				t.Fatalf("AllRooms lacks %s: %v", r, rooms)
			}
		}
	})

	t.Run("SilentPeerTimesOut", func(t *testing.T) {
		// A peer that is subscribed (so it is counted) but never answers.
		mute := m.Client(t)
		defer mute.Close()
		var ps *redis.PubSub
		if sharded {
			ps = mute.SSubscribe(await.Ctx(t), protocol.BroadcastChannel(protocol.DefaultPrefix, "/"))
		} else if streams {
			ps = mute.Subscribe(await.Ctx(t), protocol.BroadcastChannel(protocol.DefaultPrefix, "/"))
		} else {
			ps = mute.Subscribe(await.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/"))
		}
		if _, err := ps.Receive(await.Ctx(t)); err != nil {
			t.Fatal(err)
		}
		await.Eventually(t, "4 servers counted", func() bool {
			n, _ := adapter(t, nodes[0], "/").ServerCountContext(await.Ctx(t))
			return n == 4
		})
		start := time.Now()
		sockets, ferr := nodes[0].FetchSockets(All)
		took := time.Since(start)
		if !errors.Is(ferr, sioredis.ErrTimeout) {
			t.Fatalf("err = %v", ferr)
		}
		if took > 4*time.Second {
			t.Fatalf("returned after %v, timeout is 2s", took)
		}
		if len(sockets) != 3 {
			t.Fatalf("partial result has %d sockets, want the 3 that answered", len(sockets))
		}
		_, aerr := nodes[0].ServerSideEmitWithAck("sse-ack", 1)
		if !errors.Is(aerr, sioredis.ErrTimeout) {
			t.Fatalf("serverSideEmit err = %v", aerr)
		}
		_ = ps.Close()
		await.Eventually(t, "3 servers counted", func() bool {
			n, _ := adapter(t, nodes[0], "/").ServerCountContext(await.Ctx(t))
			return n == 3
		})
		// Every survivor answers again. On a loaded machine a client can
		// drop and reconnect (its server then briefly has no socket), so
		// the complete answer is waited for, not taken from the first call.
		for deadline := time.Now().Add(10 * time.Second); ; {
			sockets, ferr = nodes[0].FetchSockets(All)
			if ferr == nil && len(sockets) == 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the peer left: %d sockets, %v", len(sockets), ferr)
			}
			t.Logf("after the peer left: %d sockets, %v; asking again", len(sockets), ferr)
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("CloseLeavesNothing", func(t *testing.T) {
		for _, n := range nodes {
			n.Close()
		}
		await.NoGoroutines(t, b.Package)
		if sharded {
			if n := m.Cluster.ShardNumSub(t, protocol.BroadcastChannel(protocol.DefaultPrefix, "/")); n != 0 {
				t.Fatalf("%d subscribers left on the main channel", n)
			}
		} else if streams {
			ch := protocol.BroadcastChannel(protocol.DefaultPrefix, "/")
			res, err := m.Admin.PubSubNumSub(await.Ctx(t), ch).Result()
			if err != nil || res[ch] != 0 {
				t.Fatalf("subscribers left: %v %v", res, err)
			}
			// No reader blocks on the stream any more.
			list, err := m.Admin.ClientList(await.Ctx(t)).Result()
			if err != nil || strings.Contains(list, "cmd=xread") {
				t.Fatalf("a stream reader is left: %v\n%s", err, list)
			}
		} else {
			res, err := m.Admin.PubSubNumSub(await.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/")).Result()
			if err != nil || res[protocol.RequestChannel(protocol.DefaultPrefix, "/")] != 0 {
				t.Fatalf("subscribers left: %v %v", res, err)
			}
		}
	})
}

// hasRoom reports whether a socket of n is in room of the main namespace.
func hasRoom(t testing.TB, n Node, room string) bool {
	return slices.Contains(adapter(t, n, "/").Rooms(), room)
}

// checkBurst checks that frames hold each (sender, j) of senders x n once and
// that each sender's come in order.
func checkBurst(t *testing.T, frames []rawclient.Frame, senders, n int) {
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
