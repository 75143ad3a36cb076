package conformance

import (
	"bytes"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
)

// FaultInterval is the health-check interval of the fault scenarios.
const FaultInterval = 500 * time.Millisecond

// MaxBackoff is the adapter's longest wait between connection attempts.
const MaxBackoff = 5 * time.Second

// LogSink collects a node's log lines.
type LogSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends a log line (an io.Writer for slog handlers).
func (l *LogSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *LogSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Count returns how many lines have the level and contain every part.
func (l *LogSink) Count(level string, parts ...string) int {
	n := 0
	for line := range strings.SplitSeq(l.String(), "\n") {
		if !strings.Contains(line, "level="+level) {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			n++
		}
	}
	return n
}

// faultNode starts a server with its own client from opts (or rdb when
// opts is nil) and a health-check interval of FaultInterval.
func faultNode(t *testing.T, bd Binding, name string, rdb redis.UniversalClient, sharded bool, logs io.Writer) Node {
	t.Helper()
	l := slog.New(slog.DiscardHandler)
	if logs != nil {
		l = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return bd.Start(t, name, rdb, Config{Kind: kindOf(sharded), Logger: l, HealthCheckInterval: FaultInterval,
		RequestsTimeout: time.Second})
}

func modes() []bool { return []bool{false, true} }

// connectionsReceived is Redis' count of accepted connections.
func connectionsReceived(t *testing.T, admin *redis.Client) int {
	t.Helper()
	info, err := admin.Info(await.Ctx(t), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_connections_received:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("no total_connections_received in INFO stats")
	return 0
}

// redisSubscriptions sums the subscriptions Redis reports (CLIENT LIST
// sub, psub, ssub) for the connections of user.
func redisSubscriptions(t *testing.T, admin *redis.Client, user string) int64 {
	t.Helper()
	list, err := admin.ClientList(await.Ctx(t)).Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for line := range strings.SplitSeq(list, "\n") {
		if !strings.Contains(line, " user="+user+" ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			if k == "sub" || k == "psub" || k == "ssub" {
				i, _ := strconv.ParseInt(v, 10, 64)
				n += i
			}
		}
	}
	return n
}

// expectFresh emits ev from one node until the client receives one sent
// after the call, within bound: delivery works (again).
func expectFresh(t *testing.T, from Node, c Client, ev string, bound time.Duration) {
	t.Helper()
	deadline := time.Now().Add(bound)
	marker := strconv.FormatInt(time.Now().UnixNano(), 36)
	for {
		from.Emit(All, ev, marker)
		select {
		case args := <-c.Chan(ev):
			if len(args) > 0 && args[0] == marker {
				return
			}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no fresh %q within %v", from.Name(), ev, bound)
		}
	}
}

// closeAndCheckLeaks closes nodes and checks that nothing of b outlives them.
func closeAndCheckLeaks(t *testing.T, b Binding, nodes ...Node) {
	t.Helper()
	for _, n := range nodes {
		n.Close()
	}
	await.NoGoroutines(t, b.Package)
}

// RunFrozenRedisIsDetected freezes Redis (SIGSTOP): the TCP connections
// stay open, so only a health check that needs a reply notices. The
// server must turn unhealthy within 2 x interval, count and log it, not
// spin while Redis is frozen, and hear the cluster again after SIGCONT.
func RunFrozenRedisIsDetected(t *testing.T, bd Binding) {
	for _, sharded := range modes() {
		t.Run(modeName(sharded), func(t *testing.T) {
			srv := redistest.Start(t)
			logs := &LogSink{}
			a := faultNode(t, bd, "a", redis.NewClient(srv.Options()), sharded, logs)
			b := faultNode(t, bd, "b", redis.NewClient(srv.Options()), sharded, nil)
			c := a.Dial(t, "/", nil, "tick")
			await.Within(t, "a healthy", 5*time.Second, a.Healthy)
			expectFresh(t, b, c, "tick", 5*time.Second)
			admin := srv.Client(t)
			before := connectionsReceived(t, admin)

			start := time.Now()
			srv.Freeze(t)
			took := await.Within(t, "a notices the frozen Redis", 2*FaultInterval+time.Second, func() bool { return !a.Healthy() })
			t.Logf("frozen Redis detected after %v (interval %v)", took, FaultInterval)
			if st := a.Stats(); st.HealthCheckFailures == 0 {
				t.Fatalf("health-check failure not counted: %+v", st)
			}
			if logs.Count("WARN", "did not answer the health check") != 1 {
				t.Fatalf("want one Warn about the health check:\n%s", logs)
			}
			// Stay frozen a while: still unhealthy, and no reconnect spin.
			for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				if a.Healthy() {
					t.Fatal("healthy while Redis is frozen")
				}
			}
			srv.Thaw(t)
			frozen := time.Since(start)
			await.Within(t, "a healthy again after SIGCONT", MaxBackoff+5*time.Second, a.Healthy)
			// Connections queued while frozen are accepted now: count them
			// (both servers' subscribers and pools, and this client).
			attempts := connectionsReceived(t, admin) - before
			if limit := int(frozen.Seconds()*4) + 10; attempts > limit {
				t.Fatalf("%d connections in %v of freeze: a reconnect spin (limit %d)", attempts, frozen, limit)
			}
			t.Logf("%d connections accepted for a %v freeze", attempts, frozen.Round(time.Millisecond))
			expectFresh(t, b, c, "tick", 5*time.Second)
			if st := a.Stats(); st.Reconnects == 0 || st.Subscriptions == 0 {
				t.Fatalf("after recovery: %+v", st)
			}
			closeAndCheckLeaks(t, bd, a, b)
		})
	}
}

// RunRotatedPasswordDoesNotStorm rotates the password of the user a
// server connects as and kills its connections: every reconnect fails with
// WRONGPASS. The server must back off (few connections per second, counted
// by Redis), stay unhealthy, warn once, and recover on its own when the
// password works again.
func RunRotatedPasswordDoesNotStorm(t *testing.T, bd Binding) {
	for _, sharded := range modes() {
		t.Run(modeName(sharded), func(t *testing.T) {
			srv := redistest.Start(t)
			admin := srv.Client(t)
			ctx := await.Ctx(t)
			if err := admin.Do(ctx, "ACL", "SETUSER", "sio", "on", ">pw1", "~*", "&*", "+@all").Err(); err != nil {
				t.Fatal(err)
			}
			opts := srv.Options()
			opts.Username, opts.Password = "sio", "pw1"
			logs := &LogSink{}
			a := faultNode(t, bd, "a", redis.NewClient(opts), sharded, logs)
			b := faultNode(t, bd, "b", redis.NewClient(srv.Options()), sharded, nil)
			c := a.Dial(t, "/", nil, "tick")
			await.Within(t, "a healthy", 5*time.Second, a.Healthy)
			expectFresh(t, b, c, "tick", 5*time.Second)

			if err := admin.Do(ctx, "ACL", "SETUSER", "sio", "resetpass", ">pw2").Err(); err != nil {
				t.Fatal(err)
			}
			if err := admin.Do(ctx, "CLIENT", "KILL", "USER", "sio").Err(); err != nil {
				t.Fatal(err)
			}
			await.Within(t, "a unhealthy", 2*FaultInterval+time.Second, func() bool { return !a.Healthy() })
			before := connectionsReceived(t, admin)
			const window = 5 * time.Second
			for end := time.Now().Add(window); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				if a.Healthy() {
					t.Fatal("healthy while its password is refused")
				}
			}
			attempts := connectionsReceived(t, admin) - before
			t.Logf("%d connections in %v of WRONGPASS", attempts, window)
			if attempts > 15 {
				t.Fatalf("%d connections in %v while the password is refused: a reconnect storm", attempts, window)
			}
			st := a.Stats()
			if st.ConnectFailures == 0 {
				t.Fatalf("refused connects not counted: %+v", st)
			}
			if n := logs.Count("WARN", "cannot connect", "WRONGPASS"); n != 1 {
				t.Fatalf("want exactly one Warn naming WRONGPASS, got %d:\n%s", n, logs)
			}
			if logs.Count("INFO", "restored") != 0 {
				t.Fatalf("a refused handshake was logged as a restored connection:\n%s", logs)
			}

			if err := admin.Do(ctx, "ACL", "SETUSER", "sio", "resetpass", ">pw1").Err(); err != nil {
				t.Fatal(err)
			}
			await.Within(t, "a healthy after the password is restored", MaxBackoff+3*time.Second, a.Healthy)
			expectFresh(t, b, c, "tick", 5*time.Second)
			if st := a.Stats(); st.Reconnects == 0 || st.Subscriptions != redisSubscriptions(t, admin, "sio") {
				t.Fatalf("after recovery: %+v, Redis counts %d subscriptions", st, redisSubscriptions(t, admin, "sio"))
			}
			closeAndCheckLeaks(t, bd, a, b)
		})
	}
}

// RunRefusedSubscription connects as a user whose ACL lacks the adapter's
// channels: every (P|S)SUBSCRIBE gets -NOPERM. Nothing may count as
// subscribed, the server must be unhealthy and say which channel was
// refused and why, and once the channels are granted it must subscribe them
// on its own.
func RunRefusedSubscription(t *testing.T, bd Binding) {
	for _, sharded := range modes() {
		t.Run(modeName(sharded), func(t *testing.T) {
			srv := redistest.Start(t)
			admin := srv.Client(t)
			ctx := await.Ctx(t)
			if err := admin.Do(ctx, "ACL", "SETUSER", "lim", "on", ">pw", "~*", "resetchannels", "&other*", "+@all").Err(); err != nil {
				t.Fatal(err)
			}
			opts := srv.Options()
			opts.Username, opts.Password = "lim", "pw"
			logs := &LogSink{}
			a := faultNode(t, bd, "a", redis.NewClient(opts), sharded, logs)
			b := faultNode(t, bd, "b", redis.NewClient(srv.Options()), sharded, nil)
			c := a.Dial(t, "/", nil, "tick")

			await.Within(t, "refusals counted", 5*time.Second, func() bool { return a.Stats().SubscribeRefused > 0 })
			before := connectionsReceived(t, admin)
			for end := time.Now().Add(4 * FaultInterval); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if a.Healthy() {
					t.Fatal("healthy without its subscriptions")
				}
			}
			if st := a.Stats(); st.Subscriptions != 0 || redisSubscriptions(t, admin, "lim") != 0 {
				t.Fatalf("refused subscriptions counted: %+v (Redis: %d)", st, redisSubscriptions(t, admin, "lim"))
			}
			ch := protocol.BroadcastChannel(protocol.DefaultPrefix, "/")
			if !sharded {
				ch = protocol.RequestChannel(protocol.DefaultPrefix, "/")
			}
			if n := logs.Count("WARN", "subscription refused by Redis; retrying", "channel="+ch+" ", "NOPERM"); n != 1 {
				t.Fatalf("want one Warn naming %s and NOPERM, got %d:\n%s", ch, n, logs)
			}

			if err := admin.Do(ctx, "ACL", "SETUSER", "lim", "allchannels").Err(); err != nil {
				t.Fatal(err)
			}
			await.Within(t, "a healthy once the channels are granted", 6*FaultInterval+3*time.Second, a.Healthy)
			want := redisSubscriptions(t, admin, "lim")
			if st := a.Stats(); want == 0 || st.Subscriptions != want {
				t.Fatalf("Stats.Subscriptions = %d, Redis reports %d", st.Subscriptions, want)
			}
			// Refusals and retries go over the same connection: no
			// reconnects (the admin client may open one).
			if n := connectionsReceived(t, admin) - before; n > 2 {
				t.Fatalf("%d new connections while subscriptions were refused and retried", n)
			}
			var numsub int64
			if sharded {
				numsub = admin.PubSubShardNumSub(ctx, ch).Val()[ch]
			} else {
				numsub = admin.PubSubNumSub(ctx, ch).Val()[ch]
			}
			if numsub != 2 {
				t.Fatalf("PUBSUB (SHARD)NUMSUB %s = %d, want 2", ch, numsub)
			}
			expectFresh(t, b, c, "tick", 5*time.Second)
			closeAndCheckLeaks(t, bd, a, b)
		})
	}
}

// RunSentinelFailover runs two servers on Sentinel failover clients and
// fails the master over, planned (SENTINEL FAILOVER) and by freezing it
// while one of the three Sentinels is down. Delivery in both directions
// and fetchSockets across servers must work again within the bound.
func RunSentinelFailover(t *testing.T, bd Binding) {
	// The bounds after the switch: a planned failover is noticed on the
	// next health-check tick (the master moved) and the first redial
	// follows at once; a frozen master may have pushed the backoff to its
	// cap (5 s) and a redial may wait for the client's 1 s timeout.
	planned := 2*FaultInterval + 3*time.Second
	frozen := 2*FaultInterval + MaxBackoff + 5*time.Second
	cases := []struct {
		name    string
		sharded bool
		bound   time.Duration
		fail    func(t *testing.T, set *redistest.SentinelSet) string // returns the new master
	}{
		{"planned", false, planned, func(t *testing.T, set *redistest.SentinelSet) string { return set.Failover(t) }},
		{"planned-sharded", true, planned, func(t *testing.T, set *redistest.SentinelSet) string { return set.Failover(t) }},
		{"frozen-master-sentinel-down", false, frozen, func(t *testing.T, set *redistest.SentinelSet) string {
			set.KillSentinel(t, 0)
			old := set.Master(t)
			set.Freeze(t, old)
			return set.WaitMasterNot(t, old)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := redistest.StartSentinelSet(t, 1, 3)
			mk := func(name string, logs io.Writer) Node {
				return faultNode(t, bd, name, redis.NewFailoverClient(set.FailoverOptions()), tc.sharded, logs)
			}
			logs := &LogSink{}
			a := mk("a", logs)
			b := mk("b", nil)
			ca := a.Dial(t, "/", nil, "tick")
			cb := b.Dial(t, "/", nil, "tick")
			await.Within(t, "both healthy", 5*time.Second, func() bool { return a.Healthy() && b.Healthy() })
			expectFresh(t, a, cb, "tick", 5*time.Second)
			expectFresh(t, b, ca, "tick", 5*time.Second)

			start := time.Now()
			master := tc.fail(t, set)
			switched := time.Now()
			t.Logf("Sentinel switched the master after %v", switched.Sub(start).Round(time.Millisecond))
			bound := tc.bound
			expectFresh(t, b, ca, "tick", bound)
			expectFresh(t, a, cb, "tick", bound)
			t.Logf("delivery resumed %v after the switch", time.Since(switched).Round(time.Millisecond))
			await.Within(t, "both healthy after the failover", bound, func() bool { return a.Healthy() && b.Healthy() })
			await.Within(t, "fetchSockets sees both servers", bound, func() bool {
				sockets, err := a.FetchSockets(All)
				return err == nil && len(sockets) == 2
			})
			// Both subscribers sit on the new master, not on a replica that
			// relays what it replicates.
			nm := redis.NewClient(&redis.Options{Addr: master})
			defer nm.Close()
			ch := protocol.RequestChannel(protocol.DefaultPrefix, "/")
			numsub := func() int64 { return nm.PubSubNumSub(await.Ctx(t), ch).Val()[ch] }
			if tc.sharded {
				ch = protocol.BroadcastChannel(protocol.DefaultPrefix, "/")
				numsub = func() int64 { return nm.PubSubShardNumSub(await.Ctx(t), ch).Val()[ch] }
			}
			await.Within(t, "both subscribers on the new master", bound, func() bool { return numsub() == 2 })
			st := a.Stats()
			if st.Reconnects == 0 {
				t.Fatalf("the move to the new master was not counted: %+v", st)
			}
			elapsed := time.Since(start).Seconds()
			if attempts := float64(st.ConnectFailures + st.Reconnects); attempts > elapsed*2+5 {
				t.Fatalf("%v connection attempts in %.1fs: a reconnect spin", attempts, elapsed)
			}
			if logs.Count("WARN", "master changed")+logs.Count("WARN", "health check")+logs.Count("WARN", "connection lost") == 0 {
				t.Fatalf("no Warn about the failover:\n%s", logs)
			}
			closeAndCheckLeaks(t, bd, a, b)
		})
	}
}
