package redisadapter_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// The minimal ACL rules the README documents (Security), for the default
// prefix "socket.io" and the namespaces "/" and "/admin" of siotest's
// servers. Each is checked below with a real ACL user that has exactly
// these rules (besides +ping +hello +auth to connect).
var (
	// Classic adapter: PSUBSCRIBE patterns are checked literally, so each
	// namespace needs its own &socket.io#<nsp>#* entry.
	aclClassic = []string{
		"+publish", "+subscribe", "+psubscribe", "+unsubscribe", "+punsubscribe", "+pubsub|numsub",
		"&socket.io#/#*", "&socket.io#/admin#*", "&socket.io-request#*", "&socket.io-response#*",
		"&socket.io-heartbeat#*",
	}
	// Sharded adapter: channels only, no patterns.
	aclSharded = []string{
		"+spublish", "+ssubscribe", "+sunsubscribe", "+pubsub|shardnumsub", "&socket.io#*",
	}
	// Emitters.
	aclEmitterClassic = []string{"+publish", "&socket.io#*", "&socket.io-request#*"}
	aclEmitterSharded = []string{"+spublish", "&socket.io#*"}
)

// exercise runs what a cluster does across two servers and an emitter and
// fails on the first thing that does not work.
func exercise(t *testing.T, a, b *siotest.Node, em *emitter.Emitter) {
	t.Helper()
	ca := a.Dial(t, "/", nil, "news", "ssr")
	cb := b.Dial(t, "/", nil, "news")
	cadm := b.Dial(t, "/admin", nil, "alert")
	cb.Call("join", "room1")
	// A room broadcast across servers (and its room channel in sharded
	// dynamic mode).
	siotest.Eventually(t, "room broadcast", func() bool {
		a.IO.To("room1").Emit("news", "r")
		select {
		case <-cb.Chan("news"):
			return true
		case <-time.After(200 * time.Millisecond):
			return false
		}
	})
	a.IO.Emit("news", "all")
	ca.Expect("news")
	a.IO.Of("/admin", nil).Emit("alert", 1)
	cadm.Expect("alert")
	// fetchSockets and its answers.
	var n int
	var err error
	a.IO.FetchSockets()(func(s []*socket.RemoteSocket, e error) { n, err = len(s), e })
	if err != nil || n != 2 {
		t.Fatalf("fetchSockets: %d, %v", n, err)
	}
	// serverSideEmit with ack.
	b.IO.On("ping-srv", func(args ...any) { args[len(args)-1].(socket.Ack)([]any{"pong"}, nil) })
	var answers []any
	_ = a.IO.ServerSideEmitWithAck("ping-srv")(func(v []any, e error) { answers, err = v, e })
	if err != nil || len(answers) != 1 {
		t.Fatalf("serverSideEmitWithAck: %v, %v", answers, err)
	}
	// socketsJoin from a server, a broadcast with acks.
	a.IO.SocketsJoin("room2")
	siotest.Eventually(t, "remote join", func() bool {
		_, ok := adapterOf(b, "/").Rooms().Load("room2")
		return ok
	})
	// The emitter.
	if err := em.To("room1").Emit("news", "from emitter"); err != nil {
		t.Fatal(err)
	}
	siotest.Eventually(t, "emitter broadcast", func() bool {
		select {
		case v := <-cb.Chan("news"):
			return len(v) > 0 && v[0] == "from emitter"
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
	if err := em.Of("/admin").Emit("alert", 2); err != nil {
		t.Fatal(err)
	}
	cadm.Expect("alert")
	if err := em.ServerSideEmit("ping-srv"); err != nil {
		t.Fatal(err)
	}
}

// TestACLMinimalRules: the adapters and the emitters work with exactly the
// documented rules, and stay healthy with no refused subscription.
func TestACLMinimalRules(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name       string
		mk         func(redis.UniversalClient, ...redisadapter.Option) *redisadapter.Builder
		rules, emr []string
		sharded    bool
	}{
		{"classic", redisadapter.New, aclClassic, aclEmitterClassic, false},
		{"sharded", redisadapter.NewSharded, aclSharded, aclEmitterSharded, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aclUser(t, srv, "srv-"+tc.name, tc.rules...)
			ra, rb := aclOptionsClient(t, srv, "srv-"+tc.name), aclOptionsClient(t, srv, "srv-"+tc.name)
			ba, bb := tc.mk(ra), tc.mk(rb)
			a := siotest.StartNode(t, "a", ra, ba)
			b := siotest.StartNode(t, "b", rb, bb)
			em := emitter.New(aclClient(t, srv, "em-"+tc.name, tc.emr...), emitter.WithSharded(tc.sharded))
			exercise(t, a, b, em)
			for _, x := range []*redisadapter.Builder{ba, bb} {
				if st := x.Stats(); !st.Healthy || st.SubscribeRefused != 0 || st.PublishErrors != 0 {
					t.Fatalf("with the minimal rules: %+v", st)
				}
			}
		})
	}
}

// TestACLWrongRuleIsReported: rules that look broader but miss what the
// adapter needs are not silently deaf: Healthy turns false, the refusal is
// counted and logged at Warn. For the classic adapter &socket.io* does not
// allow PSUBSCRIBE socket.io#/#* (patterns are compared literally); for the
// sharded adapter &socket.io#/# misses the private and room channels.
func TestACLWrongRuleIsReported(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name    string
		mk      func(redis.UniversalClient, ...redisadapter.Option) *redisadapter.Builder
		rules   []string
		missing string
	}{
		{"classic", redisadapter.New, []string{
			"+publish", "+subscribe", "+psubscribe", "+unsubscribe", "+punsubscribe", "+pubsub|numsub", "&socket.io*",
		}, "socket.io#/#*"},
		{"sharded", redisadapter.NewSharded, []string{
			"+spublish", "+ssubscribe", "+sunsubscribe", "+pubsub|shardnumsub", "&socket.io#/#",
		}, "socket.io#/#"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			aclUser(t, srv, "wrong-"+tc.name, tc.rules...)
			rdb := aclOptionsClient(t, srv, "wrong-"+tc.name)
			b := tc.mk(rdb, redisadapter.WithLogger(logger), redisadapter.WithRequestsTimeout(time.Second),
				redisadapter.WithHealthCheckInterval(500*time.Millisecond))
			siotest.StartNode(t, "n", rdb, b)
			siotest.Eventually(t, "refusal reported", func() bool {
				st := b.Stats()
				mu.Lock()
				logged := strings.Contains(logs.String(), "subscription refused") && strings.Contains(logs.String(), tc.missing)
				mu.Unlock()
				return !st.Healthy && st.SubscribeRefused > 0 && logged
			})
			if b.Healthy() {
				t.Fatal("Healthy with a refused subscription")
			}
		})
	}
}
