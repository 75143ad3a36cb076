package conformance

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

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/exactlyonce"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/rawclient"
	"github.com/sioredis/sioredis/internal/redistest"
)

// adapter is n's adapter of nsp; the test fails if nsp has another.
func adapter(t testing.TB, n Node, nsp string) Adapter {
	t.Helper()
	a, ok := n.Adapter(nsp)
	if !ok {
		t.Fatalf("%s: namespace %s has no Redis adapter", n.Name(), nsp)
	}
	return a
}

// RunRedisRestart stops Redis while broadcasts flow and starts it again on
// the same port: the servers must report the outage, never block, and
// resubscribe on their own so that delivery resumes.
func RunRedisRestart(t *testing.T, b Binding) {
	srv := redistest.Start(t)
	mk := func(name string) Node {
		return b.Start(t, name, redis.NewClient(srv.Options()), Config{RequestsTimeout: time.Second})
	}
	n0, n1 := mk("n0"), mk("n1")
	c1 := n1.Dial(t, "/", nil, "tick")

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
			n0.Emit(All, "tick", i)
			lastEmitted.Store(int64(i))
			if d := int64(time.Since(start)); d > maxEmit.Load() {
				maxEmit.Store(d)
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	c1.Expect("tick")

	srv.Stop(t)
	await.Eventually(t, "both servers notice the outage", func() bool {
		return !n0.Healthy() && !n1.Healthy()
	})
	await.Eventually(t, "failed publishes are counted", func() bool {
		s := n0.Stats()
		return s.PublishErrors+s.PublishDropped > 0
	})
	// A request during the outage fails within its timeout.
	start := time.Now()
	_, ferr := n0.FetchSockets(All)
	if ferr == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("fetchSockets during the outage: err=%v after %v", ferr, time.Since(start))
	}

	srv.Restart(t)
	await.Eventually(t, "both servers resubscribed", func() bool { return n0.Healthy() && n1.Healthy() })
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
	if n1.Stats().Reconnects == 0 || n0.Stats().Reconnects == 0 {
		t.Fatalf("reconnects not counted: %+v %+v", n0.Stats(), n1.Stats())
	}
	if time.Duration(maxEmit.Load()) > 5*time.Second {
		t.Fatalf("an emit blocked for %v during the outage", time.Duration(maxEmit.Load()))
	}
	sockets, ferr := n0.FetchSockets(All)
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
		ps = rdb.SSubscribe(await.Ctx(t), protocol.BroadcastChannel(protocol.DefaultPrefix, "/"))
	} else {
		ps = rdb.Subscribe(await.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/"))
	}
	if _, err := ps.Receive(await.Ctx(t)); err != nil {
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

// modeName names the classic or the sharded adapter in subtests.
func modeName(sharded bool) string {
	if sharded {
		return "sharded"
	}
	return "classic"
}

// kindOf is the Kind of the classic or the sharded adapter.
func kindOf(sharded bool) Kind {
	if sharded {
		return Sharded
	}
	return Classic
}

// RunPeerDiesDuringRequests kills a peer in the middle of each kind of
// request, for the classic and the sharded adapter: the caller gets an error
// wrapping ErrTimeout within the timeout (the dead peer was counted, so its
// answer is awaited), no request stays pending, and once the peer is gone
// the next calls succeed with the survivors' answers.
func RunPeerDiesDuringRequests(t *testing.T, b Binding) {
	for _, sharded := range []bool{false, true} {
		t.Run(modeName(sharded), func(t *testing.T) { testPeerDies(t, b, sharded) })
	}
}

func testPeerDies(t *testing.T, b Binding, sharded bool) {
	srv := redistest.Start(t)
	mk := func(name string) Node {
		return b.Start(t, name, redis.NewClient(srv.Options()), Config{Kind: kindOf(sharded), RequestsTimeout: time.Second})
	}
	n0, n1 := mk("n0"), mk("n1")
	for _, n := range []Node{n0, n1} {
		c := n.Dial(t, "/", nil)
		c.Answer("ask", func([]any) []any { return []any{"yes"} })
	}
	n1.On("ping", func([]any) []any { return []any{"pong"} })
	a0 := adapter(t, n0, "/")

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
		{"fetchSockets", func() (int, error) {
			s, err := n0.FetchSockets(All)
			return len(s), err
		}, true, 2},
		{"serverSideEmitWithAck", func() (int, error) {
			a, err := n0.ServerSideEmitWithAck("ping")
			return len(a), err
		}, true, 1},
		{"broadcastWithAck", func() (int, error) {
			a, err := n0.EmitWithAck(All, time.Second, "ask")
			return len(a), err
		}, false, 2},
	}
	if !sharded { // the sharded protocol has no allRooms request
		calls = append(calls, call{"allRooms", func() (int, error) {
			r, err := a0.AllRooms(context.Background())
			return len(r), err
		}, true, 2})
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			died := dyingPeer(t, srv.Options(), sharded)
			await.Eventually(t, "peer counted", func() bool {
				n, _ := a0.ServerCountContext(await.Ctx(t))
				return n == 3
			})
			start := time.Now()
			_, err := c.do()
			if err == nil {
				t.Fatalf("%s: no error though a peer died", c.name)
			}
			if c.timeout && !errors.Is(err, sioredis.ErrTimeout) {
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
			await.Eventually(t, "server count drops", func() bool {
				n, _ := a0.ServerCountContext(await.Ctx(t))
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

// hostilePayloads are payloads that anyone able to PUBLISH could send.
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

// RunHostileInput publishes garbage on every channel a server listens to:
// each message is dropped, counted and logged once per channel at Warn; the
// server keeps serving.
func RunHostileInput(t *testing.T, b Binding) {
	for _, sharded := range []bool{false, true} {
		t.Run(modeName(sharded), func(t *testing.T) { testHostileInput(t, b, sharded) })
	}
}

func testHostileInput(t *testing.T, b Binding, sharded bool) {
	srv := redistest.Start(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mk := func(n string) Node {
		l := slog.New(slog.DiscardHandler)
		if n == "n1" {
			l = logger // only the server under observation
		}
		// Heartbeats are received messages too: after the start-up ones
		// (awaited below), none comes within the test.
		return b.Start(t, n, redis.NewClient(srv.Options()), Config{Kind: kindOf(sharded), Logger: l,
			SubscriptionMode: sioredis.DynamicMode, HeartbeatInterval: time.Hour, HeartbeatTimeout: 2 * time.Hour})
	}
	n0, n1 := mk("n0"), mk("n1")
	await.Eventually(t, "n1 heard n0's heartbeats", func() bool {
		return len(n1.Members()) == 2 // "/" and "/admin"
	})
	// A raw-frame recorder sees everything the server writes.
	c1 := rawclient.Dial(t, n1.URL(), "/", nil, true)
	c1.Call("join", "room1")
	a1 := adapter(t, n1, "/")
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
		await.Eventually(t, "room channel subscribed", func() bool {
			res, _ := pub.PubSubShardNumSub(await.Ctx(t), channels[2]).Result()
			return res[channels[2]] == 1
		})
	}
	// Channel by channel: every message reaches n1 and is either
	// undecodable or ignored, none is handled. On the request and response
	// channels of the classic protocol a well-formed request is answered,
	// and the answers (on the response channel, which n1 reads too) add to
	// the counts.
	const rounds = 3
	// answeredRequests is the number of hostile payloads that are
	// well-formed enough to be handled as requests and answered.
	const answeredRequests = 2
	for _, ch := range channels {
		answered := !sharded && (ch == protocol.RequestChannel(key, nsp) || ch == protocol.ResponseChannel(key, nsp))
		before := n1.Stats()
		sent := uint64(0)
		for i := 0; i < rounds; i++ {
			for _, p := range hostilePayloads() {
				var err error
				if sharded {
					err = pub.SPublish(await.Ctx(t), ch, p).Err()
				} else {
					err = pub.Publish(await.Ctx(t), ch, p).Err()
				}
				if err != nil {
					t.Fatal(err)
				}
				sent++
			}
		}
		delta := func() (rec, dropped uint64) {
			st := n1.Stats()
			return st.Received - before.Received, st.DecodeErrors - before.DecodeErrors + st.Ignored - before.Ignored
		}
		await.Eventually(t, "garbage on "+ch+" received and dropped", func() bool {
			rec, dropped := delta()
			return rec >= sent && (answered || dropped >= sent)
		})
		time.Sleep(exactlyonce.Quiet)
		rec, dropped := delta()
		t.Logf("%s: sent %d, received %d, dropped (undecodable or ignored) %d", ch, sent, rec, dropped)
		if !answered && (rec != sent || dropped != sent) {
			t.Errorf("%s: sent %d, received %d, dropped %d: want all received and dropped", ch, sent, rec, dropped)
		}
		if answered && (rec < sent || dropped+answeredRequests*rounds < sent) {
			t.Errorf("%s: sent %d, received %d, dropped %d: more than the %d well-formed requests handled", ch, sent, rec, dropped, answeredRequests*rounds)
		}
	}
	st := n1.Stats()
	if st.DecodeErrors < uint64(len(channels)) {
		t.Fatalf("decode errors not counted: %+v", st)
	}
	// Still serving: a real broadcast gets through after the garbage, and
	// it is all the client got.
	n0.Emit(To("room1"), "ok", 1)
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
}

// lockedWriter serialises the writes of several loggers to one buffer.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// RunHealthAndClose covers readiness and the goroutine-leak check with
// goleak-style strictness on servers that never had clients.
func RunHealthAndClose(t *testing.T, b Binding) {
	srv := redistest.Start(t)
	before := goleak.IgnoreCurrent()
	rdb := redis.NewClient(srv.Options())
	bld := b.New(rdb, Config{})
	if bld.Healthy() {
		t.Fatal("healthy before any namespace exists")
	}
	n := b.Serve(t, "n", rdb, bld)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	if st := n.Stats(); st.Subscriptions != 10 { // 5 channels (heartbeats included) x 2 namespaces
		t.Fatalf("subscriptions = %d, want 10", st.Subscriptions)
	}
	n.Close()
	if n.Healthy() {
		t.Fatal("healthy after close")
	}
	if st := n.Stats(); st.Subscriptions != 0 {
		t.Fatalf("subscriptions after close = %d", st.Subscriptions)
	}
	await.NoGoroutines(t, b.Package)
	// Nothing at all may outlive the server: adapter, go-redis and socket.io
	// goroutines included.
	goleak.VerifyNone(t, before)
	if err := context.Cause(ctx); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("test took too long")
	}
}

// RunCloseDuringOutage closes servers while Redis is down: io.Close
// returns, queued messages are dropped and counted, nothing is left running.
func RunCloseDuringOutage(t *testing.T, b Binding) {
	srv := redistest.Start(t)
	n := b.Start(t, "n", redis.NewClient(srv.Options()), Config{RequestsTimeout: time.Second})
	srv.Stop(t)
	for i := 0; i < 1000; i++ {
		n.Emit(All, "lost", i)
	}
	start := time.Now()
	n.Close()
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("io.Close took %v during an outage", d)
	}
	await.NoGoroutines(t, b.Package)
	if st := n.Stats(); st.PublishErrors+st.PublishDropped == 0 {
		t.Fatalf("lost messages not counted: %+v", st)
	}
}

// RunCloseDuringRequests closes a server while its requests wait for a
// silent peer: they return ErrClosed at once, nothing panics or races.
func RunCloseDuringRequests(t *testing.T, b Binding) {
	srv := redistest.Start(t)
	n := b.Start(t, "n", redis.NewClient(srv.Options()), Config{RequestsTimeout: 5 * time.Second})
	mute := srv.Client(t)
	ps := mute.Subscribe(await.Ctx(t), protocol.RequestChannel(protocol.DefaultPrefix, "/"))
	if _, err := ps.Receive(await.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	a := adapter(t, n, "/")
	errs := make(chan error, 3)
	go func() {
		_, err := n.FetchSockets(All)
		errs <- err
	}()
	go func() {
		_, err := n.ServerSideEmitWithAck("x")
		errs <- err
	}()
	go func() {
		_, err := a.AllRooms(context.Background())
		errs <- err
	}()
	await.Eventually(t, "requests pending", func() bool { return a.PendingRequests() == 3 })
	start := time.Now()
	n.Close()
	for i := 0; i < 3; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, sioredis.ErrClosed) {
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
	if err := n.ServerSideEmit("late"); err == nil {
		t.Fatal("serverSideEmit after close succeeded")
	}
	n.Emit(All, "late", 1)
	await.NoGoroutines(t, b.Package)
}
