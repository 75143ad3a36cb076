package interop_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// TestNodeClassic and TestNodeSharded run a socket.io v3 Go server and a
// Node socket.io 4.8 server (@socket.io/redis-adapter 8.3) on one Redis,
// with v3 Go clients on both, and check every cross-server feature in both
// directions, plus Node's emitter (classic only: it publishes classic
// broadcasts).
func TestNodeClassic(t *testing.T) { runNode(t, false) }

func TestNodeSharded(t *testing.T) { runNode(t, true) }

func runNode(t *testing.T, sharded bool) {
	bin := requireNode(t)
	srv := redistest.Start(t)
	admin := srv.Client(t)
	nodeEnv := []string{"SIO_REDIS_URL=" + srv.URL(), "SIO_MODE=classic"}
	rdb := redis.NewClient(srv.Options())
	var b *redisadapter.Builder
	if sharded {
		nodeEnv = []string{"SIO_REDIS_URL=" + srv.URL(), "SIO_MODE=sharded", "SIO_SUB_MODE=dynamic"}
		b = redisadapter.NewSharded(rdb, redisadapter.WithRequestsTimeout(3*time.Second))
	} else {
		b = redisadapter.New(rdb, redisadapter.WithRequestsTimeout(3*time.Second))
	}
	node := startNodeServer(t, bin, nodeEnv...)
	goSrv := siotest.StartNode(t, "go", rdb, b)
	gadapter := goSrv.IO.Of("/", nil).Adapter().(*redisadapter.Adapter)
	siotest.Eventually(t, "two servers", func() bool {
		n, _ := gadapter.ServerCountContext(siotest.Ctx(t))
		return n == 2
	})
	_ = goSrv.IO.On("sse-ack", func(args ...any) {
		args[len(args)-1].(socket.Ack)([]any{"pong-go"}, nil)
	})
	waitRoom := func(room string) {
		if !sharded {
			return
		}
		ch := protocol.RoomChannel(protocol.DefaultPrefix, "/", room)
		siotest.Eventually(t, "two subscribers of "+ch, func() bool {
			m, err := admin.PubSubShardNumSub(siotest.Ctx(t), ch).Result()
			return err == nil && m[ch] == 2
		})
	}

	events := []string{"go-ev", "node-ev", "em"}
	g := goSrv.Dial(t, "/", url.Values{"who": {"g"}}, events...)
	n := siotest.Dial(t, node.URL, "/", url.Values{"who": {"n"}}, events...)
	for _, c := range []*siotest.Client{g, n} {
		if got := c.Call("join", "r"); fmt.Sprint(got) != "[ok]" {
			t.Fatalf("join: %v", got)
		}
		_ = c.S.On("ask", func(args ...any) {
			args[len(args)-1].(socket.Ack)([]any{"answer-" + c.ID()}, nil)
		})
	}
	waitRoom("r")
	clients := []*siotest.Client{g, n}

	t.Run("GoBroadcastReachesNode", func(t *testing.T) {
		goSrv.IO.To("r").Emit("go-ev", 1, "x", map[string]any{"k": []byte{1, 2}})
		for _, c := range clients {
			got := c.ExpectExactly("go-ev", 1)[0]
			if len(got) != 3 || got[0] != float64(1) || got[1] != "x" {
				t.Fatalf("%s got %#v", c.ID(), got)
			}
		}
	})

	t.Run("NodeBroadcastReachesGo", func(t *testing.T) {
		node.call(t, map[string]any{"op": "emitMany", "rooms": []string{"r"}, "ev": "node-ev", "count": 50})
		for _, c := range clients {
			for i, args := range c.ExpectExactly("node-ev", 50) {
				if args[0] != float64(i) {
					t.Fatalf("%s: message %v arrived when %d was due", c.ID(), args[0], i)
				}
			}
		}
	})

	t.Run("FetchSockets", func(t *testing.T) {
		var sockets []*socket.RemoteSocket
		var ferr error
		goSrv.IO.In("r").FetchSockets()(func(s []*socket.RemoteSocket, err error) { sockets, ferr = s, err })
		if ferr != nil || len(sockets) != 2 {
			t.Fatalf("Go fetchSockets: %d sockets, %v", len(sockets), ferr)
		}
		for _, s := range sockets {
			if string(s.Id()) != n.ID() {
				continue
			}
			if q, _ := s.Handshake().Query["who"].([]string); !slices.Equal(q, []string{"n"}) {
				t.Fatalf("Node socket's query from Go: %#v", s.Handshake().Query)
			}
			if !s.Rooms().Has("r") {
				t.Fatalf("Node socket's rooms: %v", s.Rooms().Keys())
			}
		}
		var fromNode []struct {
			ID        string `json:"id"`
			Handshake struct {
				Query map[string]any `json:"query"`
			} `json:"handshake"`
			Rooms []string `json:"rooms"`
		}
		if err := json.Unmarshal(node.call(t, map[string]any{"op": "fetchSockets", "rooms": []string{"r"}}), &fromNode); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range fromNode {
			if s.ID == g.ID() {
				found = true
				if who := fmt.Sprint(s.Handshake.Query["who"]); who != "g" && who != "[g]" {
					t.Fatalf("Go socket's query from Node: %v", s.Handshake.Query)
				}
				if !slices.Contains(s.Rooms, "r") {
					t.Fatalf("Go socket's rooms from Node: %v", s.Rooms)
				}
			}
		}
		if len(fromNode) != 2 || !found {
			t.Fatalf("Node fetchSockets: %+v", fromNode)
		}
	})

	t.Run("ServerSideEmitWithAck", func(t *testing.T) {
		var answers []any
		var aerr error
		if err := goSrv.IO.ServerSideEmitWithAck("sse-ack", 1)(func(a []any, err error) { answers, aerr = a, err }); err != nil {
			t.Fatal(err)
		}
		if aerr != nil || !reflect.DeepEqual(answers, []any{"pong-node"}) {
			t.Fatalf("Go -> Node: %v, %v", answers, aerr)
		}
		var r struct {
			Err       *string `json:"err"`
			Responses []any   `json:"responses"`
		}
		_ = json.Unmarshal(node.call(t, map[string]any{"op": "serverSideEmit", "ev": "sse-ack", "ack": true, "args": []any{2}}), &r)
		if r.Err != nil || !reflect.DeepEqual(r.Responses, []any{"pong-go"}) {
			t.Fatalf("Node -> Go: %+v", r)
		}
	})

	t.Run("BroadcastWithAck", func(t *testing.T) {
		want := []string{"answer-" + g.ID(), "answer-" + n.ID()}
		sort.Strings(want)
		done := make(chan struct{})
		var got []any
		var gerr error
		goSrv.IO.To("r").Timeout(3 * time.Second).EmitWithAck("ask")(func(a []any, err error) {
			got, gerr = a, err
			close(done)
		})
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Go broadcast with ack never completed")
		}
		if gerr != nil || !slices.Equal(sortedStrings(got), want) {
			t.Fatalf("Go -> all: %v, %v", got, gerr)
		}
		var r struct {
			Err       *string `json:"err"`
			Responses []any   `json:"responses"`
		}
		_ = json.Unmarshal(node.call(t, map[string]any{"op": "emitWithAck", "rooms": []string{"r"}, "ev": "ask", "timeout": 3000}), &r)
		if r.Err != nil || !slices.Equal(sortedStrings(r.Responses), want) {
			t.Fatalf("Node -> all: %+v", r)
		}
	})

	t.Run("NodeEmitter", func(t *testing.T) {
		if sharded {
			t.Skip("@socket.io/redis-emitter publishes classic broadcasts only")
		}
		runEmitter(t, bin, map[string]any{"redis": srv.URL(), "rooms": []string{"r"}, "ev": "em", "args": []any{3}})
		for _, c := range clients {
			if got := c.ExpectExactly("em", 1)[0]; !reflect.DeepEqual(got, []any{float64(3)}) {
				t.Fatalf("%s got %v", c.ID(), got)
			}
		}
	})

	t.Run("GoEmitter", func(t *testing.T) {
		// The root module's emitter (it imports no socket.io) reaches v3
		// and Node servers alike, in either wire format.
		em := emitter.New(admin, emitter.WithSharded(sharded))
		if err := em.To("r").EmitContext(siotest.Ctx(t), "em", 4); err != nil {
			t.Fatal(err)
		}
		for _, c := range clients {
			if got := c.ExpectExactly("em", 1)[0]; !reflect.DeepEqual(got, []any{float64(4)}) {
				t.Fatalf("%s got %v", c.ID(), got)
			}
		}
	})

	t.Run("CloseLeavesNothing", func(t *testing.T) {
		goSrv.Close()
		siotest.AssertNoGoroutines(t, "sioredis/sio3/redisadapter.")
	})
}

func sortedStrings(v []any) []string {
	out := make([]string, 0, len(v))
	for _, e := range v {
		out = append(out, fmt.Sprint(e))
	}
	sort.Strings(out)
	return out
}
