package redisadapter_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
	"go.uber.org/goleak"
)

// TestRedisRestart stops Redis while broadcasts flow and starts it again on
// the same port: the servers must report the outage, never block, and
// resubscribe on their own so that delivery resumes.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	mk := func(name string) *siotest.Node {
		rdb := redis.NewClient(srv.Options())
		return siotest.StartNode(t, name, rdb, redisadapter.New(rdb, redisadapter.WithRequestsTimeout(time.Second)))
	}
	n0, n1 := mk("n0"), mk("n1")
	c1 := n1.Dial(t, "/", nil, "tick")
	b0 := n0.Adapter.(*redisadapter.Builder)
	b1 := n1.Adapter.(*redisadapter.Builder)

	// Broadcasts flow from n0 to the client on n1 during the whole test.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var maxEmit, lastEmitted atomic.Int64
	lastEmitted.Store(-1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			start := time.Now()
			n0.IO.Emit("tick", i)
			lastEmitted.Store(int64(i))
			if d := int64(time.Since(start)); d > maxEmit.Load() {
				maxEmit.Store(d)
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	c1.Expect("tick")

	srv.Stop(t)
	siotest.Eventually(t, "both servers notice the outage", func() bool {
		return !b0.Healthy() && !b1.Healthy()
	})
	siotest.Eventually(t, "failed publishes are counted", func() bool {
		s := b0.Stats()
		return s.PublishErrors+s.PublishDropped > 0
	})
	// A request during the outage fails within its timeout.
	var ferr error
	start := time.Now()
	n0.IO.FetchSockets()(func(_ []*socket.RemoteSocket, err error) { ferr = err })
	if ferr == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("fetchSockets during the outage: err=%v after %v", ferr, time.Since(start))
	}

	srv.Restart(t)
	siotest.Eventually(t, "both servers resubscribed", func() bool { return b0.Healthy() && b1.Healthy() })
	// A tick emitted after both servers resubscribed must reach the client:
	// skip what was queued before, look for a number above the mark.
	mark := lastEmitted.Load()
	deadline := time.After(10 * time.Second)
	for fresh := false; !fresh; {
		select {
		case args := <-c1.Chan("tick"):
			fresh = int64(args[0].(float64)) > mark
		case <-deadline:
			t.Fatalf("no tick above %d reached the client after the restart", mark)
		}
	}
	if b1.Stats().Reconnects == 0 || b0.Stats().Reconnects == 0 {
		t.Fatalf("reconnects not counted: %+v %+v", b0.Stats(), b1.Stats())
	}
	if time.Duration(maxEmit.Load()) > 5*time.Second {
		t.Fatalf("an emit blocked for %v during the outage", time.Duration(maxEmit.Load()))
	}
	var sockets []*socket.RemoteSocket
	n0.IO.FetchSockets()(func(s []*socket.RemoteSocket, err error) { sockets, ferr = s, err })
	if ferr != nil || len(sockets) != 1 {
		t.Fatalf("after the restart: %d sockets, %v", len(sockets), ferr)
	}
}

// dyingPeer subscribes like a server (so it is counted), and closes its
// connection as soon as the first request arrives: a peer that dies in the
// middle of a request.
func dyingPeer(t *testing.T, opts *redis.Options, sharded bool) <-chan struct{} {
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	var ps *redis.PubSub
	if sharded {
		ps = rdb.SSubscribe(siotest.Ctx(t), protocol.BroadcastChannel(protocol.DefaultPrefix, "/"))
	} else {
		ps = rdb.Subscribe(siotest.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/"))
	}
	if _, err := ps.Receive(siotest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	died := make(chan struct{})
	go func() {
		defer close(died)
		_, _ = ps.ReceiveMessage(context.Background())
		_ = ps.Close()
	}()
	return died
}

// TestPeerDiesDuringRequests kills a peer in the middle of each kind of
// request, for the classic and the sharded adapter: the caller gets an error
// wrapping ErrTimeout within the timeout (the dead peer was counted, so its
// answer is awaited), no request stays pending, and once the peer is gone
// the next calls succeed with the survivors' answers.
func TestPeerDiesDuringRequests(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		name := "classic"
		if sharded {
			name = "sharded"
		}
		t.Run(name, func(t *testing.T) { testPeerDies(t, sharded) })
	}
}

func testPeerDies(t *testing.T, sharded bool) {
	srv := redistest.Start(t)
	mk := func(name string) *siotest.Node {
		rdb := redis.NewClient(srv.Options())
		if sharded {
			return siotest.StartNode(t, name, rdb, redisadapter.NewSharded(rdb, redisadapter.WithRequestsTimeout(time.Second)))
		}
		return siotest.StartNode(t, name, rdb, redisadapter.New(rdb, redisadapter.WithRequestsTimeout(time.Second)))
	}
	n0, n1 := mk("n0"), mk("n1")
	for _, n := range []*siotest.Node{n0, n1} {
		c := n.Dial(t, "/", nil)
		c.S.On("ask", func(args ...any) { args[len(args)-1].(func([]any, error))([]any{"yes"}, nil) })
	}
	n1.IO.On("ping", func(args ...any) { args[len(args)-1].(socket.Ack)([]any{"pong"}, nil) })
	a0 := adapterOf(n0, "/")

	// Each call returns its error and the number of answers it got.
	type call struct {
		name string
		do   func() (int, error)
		// timeout: the error a dead peer causes wraps ErrTimeout
		// (socket.io's own ack timeout for broadcastWithAck is not ours).
		timeout bool
		// want is the number of answers once the peer is gone.
		want int
	}
	calls := []call{
		{"fetchSockets", func() (n int, err error) {
			n0.IO.FetchSockets()(func(s []*socket.RemoteSocket, e error) { n, err = len(s), e })
			return
		}, true, 2},
		{"serverSideEmitWithAck", func() (n int, err error) {
			_ = n0.IO.ServerSideEmitWithAck("ping")(func(a []any, e error) { n, err = len(a), e })
			return
		}, true, 1},
		{"broadcastWithAck", func() (n int, err error) {
			done := make(chan struct{})
			n0.IO.Timeout(time.Second).EmitWithAck("ask")(func(a []any, e error) { n, err = len(a), e; close(done) })
			<-done
			return
		}, false, 2},
	}
	if !sharded { // the sharded protocol has no allRooms request
		calls = append(calls, call{"allRooms", func() (int, error) {
			r, err := a0.AllRooms(context.Background())
			if r == nil {
				return 0, err
			}
			return r.Len(), err
		}, true, 2})
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			died := dyingPeer(t, srv.Options(), sharded)
			siotest.Eventually(t, "peer counted", func() bool {
				n, _ := a0.ServerCountContext(siotest.Ctx(t))
				return n == 3
			})
			start := time.Now()
			_, err := c.do()
			if err == nil {
				t.Fatalf("%s: no error though a peer died", c.name)
			}
			if c.timeout && !errors.Is(err, redisadapter.ErrTimeout) {
				t.Fatalf("%s: err = %v, want one wrapping ErrTimeout", c.name, err)
			}
			if !c.timeout && !strings.Contains(err.Error(), "timed out") {
				t.Fatalf("%s: err = %v, want socket.io's ack timeout", c.name, err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("%s returned after %v; timeout is 1s", c.name, d)
			}
			<-died
			if p := a0.PendingRequests(); p != 0 {
				t.Fatalf("%d requests still pending", p)
			}
			siotest.Eventually(t, "server count drops", func() bool {
				n, _ := a0.ServerCountContext(siotest.Ctx(t))
				return n == 2
			})
			for i := 0; i < 2; i++ {
				n, err := c.do()
				if err != nil || n != c.want {
					t.Fatalf("%s with the survivors: %d answers, %v; want %d", c.name, n, err, c.want)
				}
			}
			if p := a0.PendingRequests(); p != 0 {
				t.Fatalf("%d requests pending after the calls", p)
			}
		})
	}
}

// hostile payloads that anyone able to PUBLISH could send.
func hostilePayloads() [][]byte {
	r := rand.New(rand.NewSource(1))
	random := make([]byte, 256)
	r.Read(random)
	valid, _ := protocol.EncodeBroadcast(&protocol.Broadcast{UID: "x", Packet: protocol.Packet{Type: 2, Data: []any{"ev", 1}, Nsp: "/"}})
	return [][]byte{
		random,
		{},
		valid[:len(valid)/2],
		{0xdd, 0xff, 0xff, 0xff, 0xff},       // array32 of 4 billion elements
		{0xdf, 0x7f, 0xff, 0xff, 0xff},       // map32
		{0xdb, 0xff, 0xff, 0xff, 0xff, 0x41}, // str32
		bytes.Repeat([]byte{0x91}, 100000),   // deep nesting
		[]byte(`{"type":5}`),
		[]byte(`{"uid":1,"type":"x","requestId":{}}`),
		[]byte(`{"type":7,"packet":"no","opts":[]}`),
		[]byte(`{"type":99,"requestId":"zz"}`),
		[]byte(`{"type":3,"data":{"packet":{"type":2,"data":[]}},"uid":"u","nsp":"/"}`),
		[]byte(`{"type":4,"data":{"opts":{"rooms":[{}]}},"uid":"u","nsp":"/"}`),
		[]byte(`{"type":3,"data":{"packet":{"type":2,"data":["x"]},"opts":{"rooms":[]}},"uid":"u","nsp":"/other"}`),
		[]byte(`{"requestId":"nope","sockets":"x"}`),
		[]byte(`["not","an","object"]`),
		[]byte("{" + strings.Repeat(`"a":`, 10) + "1}"),
		[]byte{0x93, 0xa1, 0x78, 0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa4, 'd', 'a', 't', 'a', 0x91, 0x01, 0xa3, 'n', 's', 'p', 0xa1, '/', 0x80},
	}
}

// TestHostileInput publishes garbage on every channel a server listens to:
// each message is dropped, counted and logged once per channel at Warn; the
// server keeps serving.
func TestHostileInput(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		name := "classic"
		if sharded {
			name = "sharded"
		}
		t.Run(name, func(t *testing.T) {
			srv := redistest.Start(t)
			var logs bytes.Buffer
			var logMu sync.Mutex
			logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			mk := func(n string) *siotest.Node {
				rdb := redis.NewClient(srv.Options())
				l := slog.New(slog.DiscardHandler)
				if n == "n1" {
					l = logger // only the server under observation
				}
				// Heartbeats are received messages too: after the start-up
				// ones (awaited below), none comes within the test.
				opts := []redisadapter.Option{redisadapter.WithLogger(l), redisadapter.WithSubscriptionMode(redisadapter.DynamicMode),
					redisadapter.WithHeartbeatInterval(time.Hour), redisadapter.WithHeartbeatTimeout(2 * time.Hour)}
				if sharded {
					return siotest.StartNode(t, n, rdb, redisadapter.NewSharded(rdb, opts...))
				}
				return siotest.StartNode(t, n, rdb, redisadapter.New(rdb, opts...))
			}
			n0, n1 := mk("n0"), mk("n1")
			siotest.Eventually(t, "n1 heard n0's heartbeats", func() bool {
				return len(n1.Adapter.(*redisadapter.Builder).Members()) == 2 // "/" and "/admin"
			})
			// A raw-frame recorder sees everything the server writes.
			c1 := siotest.DialRaw(t, n1.URL, "/", nil, true)
			c1.Call("join", "room1")
			a1 := adapterOf(n1, "/")
			b1 := n1.Adapter.(*redisadapter.Builder)
			key, nsp := protocol.DefaultPrefix, "/"
			var channels []string
			if sharded {
				channels = []string{protocol.BroadcastChannel(key, nsp), protocol.PrivateChannel(key, nsp, a1.Uid()), protocol.RoomChannel(key, nsp, "room1")}
			} else {
				channels = []string{protocol.BroadcastChannel(key, nsp), protocol.RoomChannel(key, nsp, "room1"),
					protocol.RequestChannel(key, nsp), protocol.ResponseChannel(key, nsp), protocol.SpecificResponseChannel(key, nsp, a1.Uid())}
			}
			pub := srv.Client(t)
			if sharded {
				siotest.Eventually(t, "room channel subscribed", func() bool {
					res, _ := pub.PubSubShardNumSub(siotest.Ctx(t), channels[2]).Result()
					return res[channels[2]] == 1
				})
			}
			// Channel by channel: every message reaches n1 and is either
			// undecodable or ignored, none is handled. On the request and
			// response channels of the classic protocol a well-formed
			// request is answered, and the answers (on the response
			// channel, which n1 reads too) add to the counts.
			const rounds = 3
			// answeredRequests is the number of hostile payloads that are
			// well-formed enough to be handled as requests and answered.
			const answeredRequests = 2
			for _, ch := range channels {
				answered := !sharded && (ch == protocol.RequestChannel(key, nsp) || ch == protocol.ResponseChannel(key, nsp))
				before := b1.Stats()
				sent := uint64(0)
				for i := 0; i < rounds; i++ {
					for _, p := range hostilePayloads() {
						var err error
						if sharded {
							err = pub.SPublish(siotest.Ctx(t), ch, p).Err()
						} else {
							err = pub.Publish(siotest.Ctx(t), ch, p).Err()
						}
						if err != nil {
							t.Fatal(err)
						}
						sent++
					}
				}
				delta := func() (rec, dropped uint64) {
					st := b1.Stats()
					return st.Received - before.Received, st.DecodeErrors - before.DecodeErrors + st.Ignored - before.Ignored
				}
				siotest.Eventually(t, "garbage on "+ch+" received and dropped", func() bool {
					rec, dropped := delta()
					return rec >= sent && (answered || dropped >= sent)
				})
				time.Sleep(siotest.Quiet)
				rec, dropped := delta()
				t.Logf("%s: sent %d, received %d, dropped (undecodable or ignored) %d", ch, sent, rec, dropped)
				if !answered && (rec != sent || dropped != sent) {
					t.Errorf("%s: sent %d, received %d, dropped %d: want all received and dropped", ch, sent, rec, dropped)
				}
				if answered && (rec < sent || dropped+answeredRequests*rounds < sent) {
					t.Errorf("%s: sent %d, received %d, dropped %d: more than the %d well-formed requests handled", ch, sent, rec, dropped, answeredRequests*rounds)
				}
			}
			st := b1.Stats()
			if st.DecodeErrors < uint64(len(channels)) {
				t.Fatalf("decode errors not counted: %+v", st)
			}
			// Still serving: a real broadcast gets through after the
			// garbage, and it is all the client got.
			n0.IO.To("room1").Emit("ok", 1)
			c1.ExpectExactly("ok", 1)
			if f := c1.Frames(""); len(f) != 2 {
				t.Fatalf("the client got %d events, want the ready event and ok: %v", len(f), f)
			}
			logMu.Lock()
			text := logs.String()
			logMu.Unlock()
			warns := strings.Count(text, "undecodable message dropped")
			if warns == 0 || warns > len(channels) {
				t.Fatalf("want one warning per channel (<= %d), got %d:\n%s", len(channels), warns, text)
			}
		})
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestHealthAndClose covers readiness and the goroutine-leak check with
// goleak-style strictness on servers that never had clients.
func TestHealthAndClose(t *testing.T) {
	srv := redistest.Start(t)
	before := goleak.IgnoreCurrent()
	rdb := redis.NewClient(srv.Options())
	b := redisadapter.New(rdb)
	if b.Healthy() {
		t.Fatal("healthy before any namespace exists")
	}
	n := siotest.StartNode(t, "n", rdb, b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Subscriptions != 10 { // 5 channels (heartbeats included) x 2 namespaces
		t.Fatalf("subscriptions = %d, want 10", st.Subscriptions)
	}
	n.Close()
	if b.Healthy() {
		t.Fatal("healthy after close")
	}
	if st := b.Stats(); st.Subscriptions != 0 {
		t.Fatalf("subscriptions after close = %d", st.Subscriptions)
	}
	siotest.AssertNoGoroutines(t, "sioredis/sio3/redisadapter.")
	// Nothing at all may outlive the server: adapter, go-redis and socket.io
	// goroutines included.
	goleak.VerifyNone(t, before)
	if err := context.Cause(ctx); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("test took too long")
	}
}

// rawCycle connects one socket over a raw WebSocket, joins and leaves rooms
// through the test server's handlers, and disconnects. socket.io v2.5.0
// sometimes loses a CONNECT packet sent right after the Engine.IO handshake
// (the race behind socket.io-client-go's rare failed connects), so the
// connect phase is bounded and retried.
func rawCycle(t *testing.T, baseURL, room string) {
	t.Helper()
	for attempt := 0; attempt < 5; attempt++ {
		if rawCycleOnce(t, baseURL, room) {
			return
		}
	}
	t.Fatal("raw client could not connect in 5 attempts")
}

func rawCycleOnce(t *testing.T, baseURL, room string) bool {
	t.Helper()
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	expect := func(prefix string, within time.Duration) bool {
		_ = conn.SetReadDeadline(time.Now().Add(within))
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return false
			}
			if strings.HasPrefix(string(msg), prefix) {
				return true
			}
		}
	}
	send := func(msg string) {
		t.Helper()
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if !expect("0{", 10*time.Second) {
		t.Fatal("no Engine.IO handshake")
	}
	send("40")
	if !expect(`42["siotest:ready"`, time.Second) {
		return false
	}
	send(`420["join","churn","` + room + `"]`)
	if !expect("430", 10*time.Second) {
		t.Fatal("no ack for join")
	}
	send(`421["leave","churn"]`)
	if !expect("431", 10*time.Second) {
		t.Fatal("no ack for leave")
	}
	send("41")
	_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	return true
}

// TestCloseDuringOutage closes servers while Redis is down: io.Close
// returns, queued messages are dropped and counted, nothing is left running.
func TestCloseDuringOutage(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(srv.Options())
	b := redisadapter.New(rdb, redisadapter.WithRequestsTimeout(time.Second))
	n := siotest.StartNode(t, "n", rdb, b)
	srv.Stop(t)
	for i := 0; i < 1000; i++ {
		n.IO.Emit("lost", i)
	}
	start := time.Now()
	n.Close()
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("io.Close took %v during an outage", d)
	}
	siotest.AssertNoGoroutines(t, "sioredis/sio3/redisadapter.")
	if st := b.Stats(); st.PublishErrors+st.PublishDropped == 0 {
		t.Fatalf("lost messages not counted: %+v", st)
	}
}

// TestCloseDuringRequests closes a server while its requests wait for a
// silent peer: they return ErrClosed at once, nothing panics or races.
func TestCloseDuringRequests(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(srv.Options())
	n := siotest.StartNode(t, "n", rdb, redisadapter.New(rdb, redisadapter.WithRequestsTimeout(5*time.Second)))
	mute := srv.Client(t)
	ps := mute.Subscribe(siotest.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/"))
	if _, err := ps.Receive(siotest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	errs := make(chan error, 3)
	go n.IO.FetchSockets()(func(_ []*socket.RemoteSocket, err error) { errs <- err })
	go func() {
		_ = n.IO.ServerSideEmitWithAck("x")(func(_ []any, err error) { errs <- err })
	}()
	go func() {
		_, err := adapterOf(n, "/").AllRooms(context.Background())
		errs <- err
	}()
	siotest.Eventually(t, "requests pending", func() bool { return adapterOf(n, "/").PendingRequests() == 3 })
	start := time.Now()
	n.Close()
	for i := 0; i < 3; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, redisadapter.ErrClosed) {
				t.Fatalf("err = %v, want ErrClosed", err)
			}
		case <-time.After(4 * time.Second):
			t.Fatal("a request outlived the close")
		}
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("close and requests took %v", d)
	}
	// Calls after the close fail cleanly too.
	if err := n.IO.ServerSideEmit("late"); err == nil {
		t.Fatal("serverSideEmit after close succeeded")
	}
	n.IO.Emit("late", 1)
	siotest.AssertNoGoroutines(t, "sioredis/sio3/redisadapter.")
}
