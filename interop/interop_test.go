// Package interop_test checks that sioredis servers and emitters work in one
// deployment with Node's socket.io 4.8, @socket.io/redis-adapter 8.3 and
// @socket.io/redis-emitter 5.1: real Node processes (node/*.js) and real Go
// servers share one Redis (classic) or one Redis Cluster (sharded), with
// clients of both languages on both servers.
//
// Run with `CI=1 go test -race -count=1 ./interop/` after `cd interop && npm ci`.
// Without CI the tests skip when node or interop/node_modules is missing.
package interop_test

import (
	"context"
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
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// env is one mixed deployment: a Node server and a Go server on one Redis,
// and clients of both languages on both.
type env struct {
	sharded  bool
	streams  bool                          // @socket.io/redis-streams-adapter on one Redis
	subMode  redisadapter.SubscriptionMode // sharded only
	bin      string
	redisURL string // classic only
	admin    redis.UniversalClient
	newRDB   func() redis.UniversalClient

	node   *nodeServer
	goNode *siotest.Node
	nc     *nodeClients

	// Clients on "/" named <client language><server language>.
	gg, ng, nn, gn peer
	// Clients on "/admin".
	ggA, nnA peer
	all      []peer

	goSSE chan sseEvent
}

const requestsTimeout = 3 * time.Second

// Room names that are special on the wire: '#' and non-ASCII characters in
// a channel name, and a public room exactly as long as a Node socket id
// (Node's sharded dynamic mode publishes those on the namespace channel).
const (
	roomHash = "x#y ü"
	room20   = "abcdefghijklmnopqrst"
)

func TestClassic(t *testing.T) {
	startClassic(t, false).run(t)
}

// TestClassicSpecificResponseChannel runs the request/response scenarios
// with publishOnSpecificResponseChannel on both sides: answers then travel on
// P-response#N#<requester uid>#.
func TestClassicSpecificResponseChannel(t *testing.T) {
	e := startClassic(t, true)
	// Record the responses to check where they travel.
	ps := e.admin.PSubscribe(siotest.Ctx(t), "socket.io-response#/#*")
	t.Cleanup(func() { _ = ps.Close() })
	if _, err := ps.Receive(siotest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	perChannel := map[string][]string{}
	go func() {
		for m := range ps.Channel() {
			mu.Lock()
			perChannel[m.Channel] = append(perChannel[m.Channel], m.Payload)
			mu.Unlock()
		}
	}()
	t.Run("FetchSockets", e.testFetchSockets)
	t.Run("FetchSocketsBinaryData", e.testFetchSocketsBinaryData)
	t.Run("AllRooms", e.testAllRooms)
	t.Run("ServerSideEmit", e.testServerSideEmit)
	t.Run("BroadcastWithAck", e.testBroadcastWithAck)
	t.Run("ResponseChannels", func(t *testing.T) {
		time.Sleep(quiet)
		_ = ps.Close()
		mu.Lock()
		defer mu.Unlock()
		checkResponseChannels(t, e, perChannel)
	})
}

func checkResponseChannels(t *testing.T, e *env, perChannel map[string][]string) {
	goUID := e.goNode.IO.Of("/", nil).Adapter().(*redisadapter.Adapter).Uid()
	for _, ch := range []string{"socket.io-response#/#" + goUID + "#", "socket.io-response#/#" + e.node.UIDs["/"] + "#"} {
		if len(perChannel[ch]) == 0 {
			t.Errorf("no response on %s (channels used: %v)", ch, keys(perChannel))
		}
	}
	// Only serverSideEmit answers use the shared channel.
	for _, p := range perChannel["socket.io-response#/#"] {
		if !strings.Contains(p, `"type":6`) {
			t.Errorf("response on the shared channel: %q", p)
		}
	}
}

func startClassic(t *testing.T, specific bool) *env {
	bin := requireNode(t)
	srv := redistest.Start(t)
	e := &env{bin: bin, redisURL: srv.URL(), admin: srv.Client(t)}
	e.newRDB = func() redis.UniversalClient { return redis.NewClient(srv.Options()) }
	e.start(t, []string{"SIO_MODE=classic", "SIO_REDIS_URL=" + srv.URL(), fmt.Sprintf("SIO_SPECIFIC_RESPONSE_CHANNEL=%v", specific)},
		func(rdb redis.UniversalClient) socket.AdapterConstructor {
			return redisadapter.New(rdb, redisadapter.WithRequestsTimeout(requestsTimeout),
				redisadapter.WithPublishOnSpecificResponseChannel(specific))
		})
	return e
}

// TestSharded runs the whole suite with the default subscription mode
// (dynamic) on both sides, and the broadcast scenarios with the other two
// modes, on one Redis Cluster.
func TestSharded(t *testing.T) {
	bin := requireNode(t)
	c := redistest.StartCluster(t)
	for _, mode := range []redisadapter.SubscriptionMode{redisadapter.DynamicMode, redisadapter.StaticMode, redisadapter.DynamicPrivateMode} {
		t.Run(string(mode), func(t *testing.T) {
			e := &env{sharded: true, subMode: mode, bin: bin, admin: c.Client(t)}
			e.newRDB = func() redis.UniversalClient { return redis.NewClusterClient(c.Options()) }
			e.start(t, []string{"SIO_MODE=sharded", "SIO_SUB_MODE=" + string(mode), "SIO_REDIS_CLUSTER=" + strings.Join(c.Addrs(), ",")},
				func(rdb redis.UniversalClient) socket.AdapterConstructor {
					return redisadapter.NewSharded(rdb, redisadapter.WithRequestsTimeout(requestsTimeout),
						redisadapter.WithSubscriptionMode(mode))
				})
			if mode == redisadapter.DynamicMode {
				e.run(t)
				return
			}
			t.Run("Broadcast", e.testBroadcast)
			t.Run("BroadcastWithAck", e.testBroadcastWithAck)
			t.Run("GoEmitter", e.testGoEmitter)
		})
	}
}

func (e *env) start(t *testing.T, nodeEnv []string, builder func(redis.UniversalClient) socket.AdapterConstructor) {
	t.Helper()
	e.nc = startNodeClients(t, e.bin) // does not wait for the process
	e.node = startNodeServer(t, e.bin, "node", nodeEnv...)
	rdb := e.newRDB()
	e.goNode = siotest.StartNode(t, "go", rdb, builder(rdb))

	e.goSSE = make(chan sseEvent, 64)
	for _, nsp := range []string{"/", "/admin"} {
		nsp := nsp
		n := e.goNode.IO.Of(nsp, nil)
		for _, ev := range []string{"sse", "sse2", "sse-ack"} {
			ev := ev
			n.On(ev, func(args ...any) {
				var ack socket.Ack
				if len(args) > 0 {
					if a, ok := args[len(args)-1].(socket.Ack); ok {
						ack, args = a, args[:len(args)-1]
					}
				}
				select {
				case e.goSSE <- sseEvent{Nsp: nsp, Ev: ev, Args: norm(args).([]any)}:
				default: // never block the adapter; the test fails anyway
				}
				if ack != nil {
					ack([]any{"pong-go"}, nil)
				}
			})
		}
	}
	for _, nsp := range []string{"/", "/admin"} {
		e.waitServers(t, nsp, 2)
	}

	e.gg = dialGo(t, "gg", e.goNode.URL, "/", url.Values{"who": {"gg"}})
	e.gn = dialGo(t, "gn", e.node.URL, "/", url.Values{"who": {"gn"}})
	e.nn = e.nc.dial(t, "nn", e.node.URL, "/", map[string]any{"who": "nn"}, map[string]any{"token": "nn-token"})
	e.ng = e.nc.dial(t, "ng", e.goNode.URL, "/", map[string]any{"who": "ng"}, map[string]any{"token": "ng-token"})
	e.ggA = dialGo(t, "ggA", e.goNode.URL, "/admin", nil)
	e.nnA = e.nc.dial(t, "nnA", e.node.URL, "/admin", nil, nil)
	e.all = []peer{e.gg, e.ng, e.nn, e.gn, e.ggA, e.nnA}
	// Rooms used by every scenario: r1 = {gg, nn}, r2 = {nn, ng}, r3 = {gn}.
	e.join(t, e.gg, "r1", roomHash, room20)
	e.join(t, e.nn, "r1", "r2", roomHash, room20)
	e.join(t, e.ng, "r2")
	e.join(t, e.gn, "r3")
	e.waitRoom(t, "/", "r1", 2)
	e.waitRoom(t, "/", "r2", 2)
	e.waitRoom(t, "/", "r3", 1)
	e.waitRoom(t, "/", roomHash, 2)
	e.waitRoom(t, "/", room20, 2)
	// Socket ids get their own channel in dynamic-private mode, and Go
	// socket ids in dynamic mode too unless they are 20 characters long like
	// Node's.
	for _, p := range []peer{e.gg, e.ng} { // on the Go server
		if e.subMode == redisadapter.DynamicPrivateMode || len(p.ID()) != 20 {
			e.waitRoom(t, "/", p.ID(), 1)
		}
	}
	for _, p := range []peer{e.nn, e.gn} { // on the Node server
		if e.subMode == redisadapter.DynamicPrivateMode {
			e.waitRoom(t, "/", p.ID(), 1)
		}
	}
}

// envelopes tells whether the deployment speaks socket.io-adapter's
// ClusterAdapter envelopes (sharded and streams) rather than the classic
// protocol.
func (e *env) envelopes() bool { return e.sharded || e.streams }

// numSub counts the subscribers of a (sharded) channel over the deployment.
func (e *env) numSub(t testing.TB, ch string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), waitEvent)
	defer cancel()
	if !e.sharded {
		res, err := e.admin.PubSubNumSub(ctx, ch).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res[ch]
	}
	var mu sync.Mutex
	var total int64
	err := e.admin.(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		res, err := c.PubSubShardNumSub(ctx, ch).Result()
		mu.Lock()
		total += res[ch]
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// waitServers waits until n servers listen on nsp (the count both adapters
// use as serverCount).
func (e *env) waitServers(t testing.TB, nsp string, n int64) {
	t.Helper()
	ch := "socket.io-request#" + nsp + "#"
	if e.envelopes() {
		ch = "socket.io#" + nsp + "#"
	}
	eventually(t, fmt.Sprintf("%d servers on %s", n, ch), func() bool { return e.numSub(t, ch) == n })
}

// waitRoom waits (sharded dynamic mode) until n servers listen on the channel
// of room.
func (e *env) waitRoom(t testing.TB, nsp, room string, n int64) {
	t.Helper()
	if !e.sharded || e.subMode == redisadapter.StaticMode {
		return // no room channels
	}
	ch := "socket.io#" + nsp + "#" + room + "#"
	eventually(t, fmt.Sprintf("%d subscribers on %s", n, ch), func() bool { return e.numSub(t, ch) >= n })
}

func (e *env) join(t *testing.T, p peer, rooms ...string) {
	t.Helper()
	if got := p.Call(t, "join", anySlice(rooms)...); !reflect.DeepEqual(got, []any{"ok"}) {
		t.Fatalf("%s join: %v", p.Name(), got)
	}
}

func (e *env) goSocketRooms(sid string) []string {
	s, ok := e.goNode.IO.Of("/", nil).Sockets().Load(socket.SocketId(sid))
	if !ok {
		return nil
	}
	var out []string
	for _, r := range s.Rooms().Keys() {
		out = append(out, string(r))
	}
	sort.Strings(out)
	return out
}

func (e *env) nodeSocketRooms(t testing.TB, sid string) []string {
	v := e.node.call(t, "socketRooms", map[string]any{"sid": sid})
	var out []string
	if a, ok := v.([]any); ok {
		for _, r := range a {
			out = append(out, r.(string))
		}
	}
	sort.Strings(out)
	return out
}

func strs(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, e := range a {
			out = append(out, fmt.Sprint(e))
		}
	}
	sort.Strings(out)
	return out
}

func (e *env) run(t *testing.T) {
	t.Run("Broadcast", e.testBroadcast)
	t.Run("Burst", e.testBurst)
	t.Run("FetchSockets", e.testFetchSockets)
	t.Run("FetchSocketsBinaryData", e.testFetchSocketsBinaryData)
	t.Run("RemoteSocketEmit", e.testRemoteSocketEmit)
	t.Run("AllRooms", e.testAllRooms)
	t.Run("SocketsJoinLeave", e.testSocketsJoinLeave)
	t.Run("DisconnectSockets", e.testDisconnectSockets)
	t.Run("ServerSideEmit", e.testServerSideEmit)
	t.Run("BroadcastWithAck", e.testBroadcastWithAck)
	t.Run("NodeEmitter", e.testNodeEmitter)
	t.Run("GoEmitter", e.testGoEmitter)
}

// ---------------------------------------------------------------------------

type bcast struct {
	name     string
	nsp      string
	rooms    []string
	except   []string
	volatile bool
	compress *bool
	args     []any
	want     []peer
}

// jsDate is a date argument: a JS Date for the Node scripts, a time.Time
// for Go.
type jsDate struct{ time.Time }

// received is what clients get for args.
func received(args []any) []any {
	out := []any{}
	for _, a := range args {
		if d, ok := a.(jsDate); ok {
			a = d.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		out = append(out, a)
	}
	return out
}

// goArgs is args for a Go emit.
func goArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if d, ok := a.(jsDate); ok {
			a = d.Time
		}
		out[i] = a
	}
	return out
}

func (e *env) emitGo(t *testing.T, c bcast, ev string) {
	t.Helper()
	nsp := c.nsp
	if nsp == "" {
		nsp = "/"
	}
	op := e.goNode.IO.Of(nsp, nil).To(toRooms(c.rooms)...).Except(toRooms(c.except)...)
	if c.volatile {
		op = op.Volatile()
	}
	if c.compress != nil {
		op = op.Compress(*c.compress)
	}
	if err := op.Emit(ev, goArgs(c.args)...); err != nil {
		t.Fatal(err)
	}
}

func (e *env) emitNode(t *testing.T, c bcast, ev string) {
	t.Helper()
	p := map[string]any{"nsp": c.nsp, "rooms": c.rooms, "except": c.except, "ev": ev, "args": c.args, "volatile": c.volatile}
	if c.nsp == "" {
		p["nsp"] = "/"
	}
	if c.compress != nil {
		p["compress"] = *c.compress
	}
	e.node.call(t, "emit", p)
}

func toRooms(s []string) []socket.Room {
	out := make([]socket.Room, len(s))
	for i, r := range s {
		out[i] = socket.Room(r)
	}
	return out
}

func (e *env) testBroadcast(t *testing.T) {
	no := false
	obj := map[string]any{"k": "v", "n": []any{float64(1), float64(2)}, "nil": nil, "t": true}
	cases := []bcast{
		{name: "all", args: []any{"s", 1.5, float64(42), obj}, want: []peer{e.gg, e.ng, e.nn, e.gn}},
		{name: "no-args", want: []peer{e.gg, e.ng, e.nn, e.gn}},
		{name: "room", rooms: []string{"r1"}, args: []any{"r1"}, want: []peer{e.gg, e.nn}},
		{name: "node-only-room", rooms: []string{"r3"}, args: []any{"r3"}, want: []peer{e.gn}},
		{name: "rooms", rooms: []string{"r1", "r2"}, args: []any{"r1r2"}, want: []peer{e.gg, e.nn, e.ng}},
		{name: "room-hash", rooms: []string{roomHash}, args: []any{"#"}, want: []peer{e.gg, e.nn}},
		{name: "room-20-chars", rooms: []string{room20}, args: []any{"20"}, want: []peer{e.gg, e.nn}},
		{name: "except", except: []string{"r2"}, args: []any{"x"}, want: []peer{e.gg, e.gn}},
		{name: "room-except", rooms: []string{"r1"}, except: []string{"r2"}, args: []any{"y"}, want: []peer{e.gg}},
		{name: "rooms-except", rooms: []string{"r1", "r3"}, except: []string{"r2", "nobody"}, args: []any{"z"}, want: []peer{e.gg, e.gn}},
		{name: "volatile-compress", volatile: true, compress: &no, args: []any{"v"}, want: []peer{e.gg, e.ng, e.nn, e.gn}},
		{name: "binary", args: []any{[]byte{1, 2, 3}, map[string]any{"b": []byte{4, 5}, "s": "t"}, []any{[]byte{}, "u"}},
			want: []peer{e.gg, e.ng, e.nn, e.gn}},
		{name: "admin", nsp: "/admin", args: []any{"adm", float64(1)}, want: []peer{e.ggA, e.nnA}},
		// a JS Date / time.Time travels as a msgpack timestamp; clients get
		// its JSON form
		{name: "date", args: []any{jsDate{time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)}}, want: []peer{e.gg, e.ng, e.nn, e.gn}},
	}
	for _, target := range []peer{e.gg, e.ng, e.nn, e.gn} {
		cases = append(cases, bcast{name: "to-" + target.Name(), rooms: []string{target.ID()}, args: []any{"direct"}, want: []peer{target}})
	}
	for _, from := range []string{"go", "node"} {
		for _, c := range cases {
			c := c
			t.Run(from+"/"+c.name, func(t *testing.T) {
				ev := "b-" + c.name + "-" + from
				if from == "go" {
					e.emitGo(t, c, ev)
				} else {
					e.emitNode(t, c, ev)
				}
				expectOnce(t, e.all, c.want, ev, received(c.args))
			})
		}
	}
}

// testBurst sends broadcasts back to back: every client must get all of
// them, each exactly once, in order (Node clients; the Go client library
// reorders events). engine.io v2.5.0 loses such bursts with the stock
// in-memory delivery (zishang520/socket.io#101); redisadapter delivers
// locally without the pre-encoded frame that triggers it.
func (e *env) testBurst(t *testing.T) {
	all := []peer{e.gg, e.ng, e.nn, e.gn}
	check := func(t *testing.T, ev string, n int) {
		t.Helper()
		want := make([]any, n)
		for i := range want {
			want[i] = float64(i)
		}
		got := make([][]any, len(all))
		collect := func() bool {
			done := true
			for i, p := range all {
				for _, a := range p.Pending(ev) {
					got[i] = append(got[i], a...)
				}
				done = done && len(got[i]) >= n
			}
			return done
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !collect(); {
			time.Sleep(20 * time.Millisecond)
		}
		// Exactly once: whatever arrives in a quiet period after the
		// last expected one is a repeat.
		time.Sleep(quiet)
		collect()
		for i, p := range all {
			if _, ok := p.(*goPeer); ok {
				// socket.io-client-go calls listeners from several
				// goroutines: it does not keep the order of events.
				sort.Slice(got[i], func(a, b int) bool { return got[i][a].(float64) < got[i][b].(float64) })
			}
			if !reflect.DeepEqual(got[i], want) {
				t.Errorf("%s got %d %s events, want %d once each, in order: %s", p.Name(), len(got[i]), ev, n, show(got[i]))
			}
		}
	}
	const n = 10
	t.Run("FromNodeServer", func(t *testing.T) {
		e.node.call(t, "emitMany", map[string]any{"ev": "burst-n", "count": n})
		check(t, "burst-n", n)
	})
	t.Run("FromGoServer", func(t *testing.T) {
		for i := 0; i < n; i++ {
			if err := e.goNode.IO.Of("/", nil).Emit("burst-g", i); err != nil {
				t.Fatal(err)
			}
		}
		check(t, "burst-g", n)
	})
	t.Run("FromNodeEmitter", func(t *testing.T) {
		if e.envelopes() {
			t.Skip("@socket.io/redis-emitter only speaks the classic protocol")
		}
		// 200 PUBLISHes pipelined by one emitter.js process, no spacing.
		const burst = 200
		var cmds []map[string]any
		for i := 0; i < burst; i++ {
			cmds = append(cmds, map[string]any{"ev": "burst-e", "args": []any{i}, "gapMs": 0})
		}
		runEmitter(t, e.bin, e.redisURL, cmds...)
		check(t, "burst-e", burst)
	})
}

// ---------------------------------------------------------------------------

func (e *env) testFetchSockets(t *testing.T) {
	e.join(t, e.gg, "fs")
	e.join(t, e.nn, "fs")
	e.gg.Call(t, "set-data", map[string]any{"user": "gopher", "n": float64(1)})
	e.nn.Call(t, "set-data", map[string]any{"user": "nodejs", "list": []any{"a", float64(2)}})
	e.ng.Call(t, "set-data", "plain string")

	t.Run("NodeSeesGo", func(t *testing.T) {
		res := e.node.call(t, "fetchSockets", map[string]any{"rooms": []string{"fs"}})
		sockets := map[string]map[string]any{}
		for _, s := range res.([]any) {
			m := s.(map[string]any)
			sockets[m["id"].(string)] = m
		}
		if len(sockets) != 2 || sockets[e.gg.ID()] == nil || sockets[e.nn.ID()] == nil {
			t.Fatalf("fetchSockets(fs) = %s, want %s and %s", show(res), e.gg.ID(), e.nn.ID())
		}
		g := sockets[e.gg.ID()]
		if got, want := strs(g["rooms"]), sorted(e.gg.ID(), "fs", "r1", roomHash, room20); !slices.Equal(got, want) {
			t.Errorf("rooms = %v, want %v", got, want)
		}
		if !reflect.DeepEqual(g["data"], map[string]any{"user": "gopher", "n": float64(1)}) {
			t.Errorf("data = %s", show(g["data"]))
		}
		checkNodeHandshake(t, g["handshake"], "gg", nil)

		// the Node client on the Go server: auth and non-object data
		res = e.node.call(t, "fetchSockets", map[string]any{"rooms": []string{e.ng.ID()}})
		a := res.([]any)
		if len(a) != 1 {
			t.Fatalf("fetchSockets(ng) = %s", show(res))
		}
		m := a[0].(map[string]any)
		if m["data"] != "plain string" {
			t.Errorf("data = %s", show(m["data"]))
		}
		checkNodeHandshake(t, m["handshake"], "ng", map[string]any{"token": "ng-token"})

		// except, whole namespace
		res = e.node.call(t, "fetchSockets", map[string]any{"except": []string{"fs"}})
		var ids []string
		for _, s := range res.([]any) {
			ids = append(ids, s.(map[string]any)["id"].(string))
		}
		sort.Strings(ids)
		if want := sorted(e.ng.ID(), e.gn.ID()); !slices.Equal(ids, want) {
			t.Errorf("fetchSockets(except fs) = %v, want %v", ids, want)
		}
		res = e.node.call(t, "fetchSockets", map[string]any{"nsp": "/admin"})
		if n := len(res.([]any)); n != 2 {
			t.Errorf("fetchSockets(/admin) found %d sockets, want 2", n)
		}
	})

	t.Run("GoSeesNode", func(t *testing.T) {
		fetch := func(op *socket.BroadcastOperator) map[string]*socket.RemoteSocket {
			t.Helper()
			var sockets []*socket.RemoteSocket
			var err error
			done := make(chan struct{})
			op.FetchSockets()(func(s []*socket.RemoteSocket, e error) { sockets, err = s, e; close(done) })
			select {
			case <-done:
			case <-time.After(waitCall):
				t.Fatal("FetchSockets did not return")
			}
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]*socket.RemoteSocket{}
			for _, s := range sockets {
				out[string(s.Id())] = s
			}
			return out
		}
		got := fetch(e.goNode.IO.In("fs"))
		if len(got) != 2 || got[e.gg.ID()] == nil || got[e.nn.ID()] == nil {
			t.Fatalf("FetchSockets(fs) = %v", keys(got))
		}
		s := got[e.nn.ID()]
		var rooms []string
		for _, r := range s.Rooms().Keys() {
			rooms = append(rooms, string(r))
		}
		sort.Strings(rooms)
		if want := sorted(e.nn.ID(), "fs", "r1", "r2", roomHash, room20); !slices.Equal(rooms, want) {
			t.Errorf("rooms = %v, want %v", rooms, want)
		}
		if d := norm(s.Data()); !reflect.DeepEqual(d, map[string]any{"user": "nodejs", "list": []any{"a", float64(2)}}) {
			t.Errorf("data = %#v", s.Data())
		}
		h := s.Handshake()
		if h == nil {
			t.Fatal("no handshake")
		}
		if q := h.Query["who"]; !slices.Equal(q, []string{"nn"}) {
			t.Errorf("handshake query = %v", h.Query)
		}
		if len(h.Headers["Host"]) != 1 || !strings.HasPrefix(h.Headers["Host"][0], "127.0.0.1:") {
			t.Errorf("handshake headers = %v", h.Headers)
		}
		if h.Issued < time.Now().Add(-time.Hour).UnixMilli() || h.Address == "" || !strings.HasPrefix(h.Url, "/socket.io/") || h.Time == "" {
			t.Errorf("handshake = %+v", h)
		}
		if !reflect.DeepEqual(norm(h.Auth), map[string]any{"token": "nn-token"}) {
			t.Errorf("handshake auth = %#v", h.Auth)
		}
		got = fetch(e.goNode.IO.Except("fs"))
		if len(got) != 2 || got[e.ng.ID()] == nil || got[e.gn.ID()] == nil {
			t.Errorf("FetchSockets(except fs) = %v", keys(got))
		}
		if g := got[e.gn.ID()]; g != nil {
			if q := g.Handshake().Query["who"]; !slices.Equal(q, []string{"gn"}) {
				t.Errorf("gn handshake query = %v", g.Handshake().Query)
			}
		}
		got = fetch(e.goNode.IO.Of("/admin", nil).Except())
		if len(got) != 2 {
			t.Errorf("FetchSockets(/admin) = %v", keys(got))
		}
	})
}

// testFetchSocketsBinaryData: socket.data holding binary, both ways.
func (e *env) testFetchSocketsBinaryData(t *testing.T) {
	bg := dialGo(t, "bin-g", e.goNode.URL, "/", nil)
	bn := e.nc.dial(t, "bin-n", e.node.URL, "/", nil, nil)
	bg.Call(t, "set-data", map[string]any{"b": []byte{1, 2}})
	bn.Call(t, "set-data", map[string]any{"b": []byte{3, 4}})

	res := e.node.call(t, "fetchSockets", map[string]any{"rooms": []string{bg.ID()}}).([]any)
	if len(res) != 1 {
		t.Fatalf("fetchSockets: %s", show(res))
	}
	// sioredis answers in msgpack when the data holds binary (classic Node
	// >= 7.2 decodes msgpack responses), so the Buffer stays a Buffer in both
	// modes.
	if got := res[0].(map[string]any)["data"]; !reflect.DeepEqual(got, map[string]any{"b": []byte{1, 2}}) {
		t.Errorf("Node sees the Go socket's data as %s, want {b: Buffer<01 02>}", show(got))
	}

	var sockets []*socket.RemoteSocket
	var ferr error
	e.goNode.IO.In(socket.Room(bn.ID())).FetchSockets()(func(s []*socket.RemoteSocket, err error) { sockets, ferr = s, err })
	if ferr != nil || len(sockets) != 1 {
		t.Fatalf("FetchSockets: %d, %v", len(sockets), ferr)
	}
	e.closePeers(t, bg, bn)
	// Node answers in JSON in classic mode (a Buffer becomes its toJSON()
	// form, as for a Node requester) and in msgpack in sharded mode.
	var want any = map[string]any{"b": []byte{3, 4}}
	if !e.envelopes() {
		want = map[string]any{"b": map[string]any{"type": "Buffer", "data": []any{float64(3), float64(4)}}}
	}
	if got := norm(sockets[0].Data()); !reflect.DeepEqual(got, want) {
		t.Errorf("Go sees the Node socket's data as %#v, want %#v", got, want)
	}
}

// closePeers disconnects clients that a scenario added and waits until
// both servers have forgotten them.
func (e *env) closePeers(t *testing.T, ps ...interface {
	peer
	Close(testing.TB)
}) {
	t.Helper()
	for _, p := range ps {
		p.Close(t)
	}
	eventually(t, "clients gone", func() bool {
		for _, p := range ps {
			if e.goSocketRooms(p.ID()) != nil || e.nodeSocketRooms(t, p.ID()) != nil {
				return false
			}
		}
		return true
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

// checkNodeHandshake checks that a Go socket's handshake has the shape a Node
// server gives its own (socket.handshake in socket.io 4): lowercase header
// names with string values, string query values.
func checkNodeHandshake(t *testing.T, v any, who string, auth map[string]any) {
	t.Helper()
	h, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("handshake = %s", show(v))
	}
	// Node's own handshake.headers also has "host"; zishang's Handshake
	// does not keep it (net/http moves it out of Request.Header), so the Go
	// server cannot send it.
	headers, _ := h["headers"].(map[string]any)
	if headers["upgrade"] != "websocket" {
		t.Errorf("handshake.headers = %s, want upgrade: \"websocket\"", show(h["headers"]))
	}
	for k, v := range headers {
		if k != strings.ToLower(k) {
			t.Errorf("handshake header name %q is not lowercase", k)
		}
		if _, ok := v.(string); !ok {
			t.Errorf("handshake header %q = %s, want a string", k, show(v))
		}
	}
	query, _ := h["query"].(map[string]any)
	if query["who"] != who || query["EIO"] != "4" {
		t.Errorf("handshake.query = %s, want who=%s and EIO=4 as strings", show(h["query"]), who)
	}
	if issued, _ := h["issued"].(float64); issued < float64(time.Now().Add(-time.Hour).UnixMilli()) {
		t.Errorf("handshake.issued = %v", h["issued"])
	}
	for _, k := range []string{"time", "address", "url"} {
		if s, _ := h[k].(string); s == "" {
			t.Errorf("handshake.%s = %s", k, show(h[k]))
		}
	}
	for _, k := range []string{"xdomain", "secure"} {
		if _, ok := h[k].(bool); !ok {
			t.Errorf("handshake.%s = %s", k, show(h[k]))
		}
	}
	if auth == nil {
		auth = map[string]any{}
	}
	if !reflect.DeepEqual(h["auth"], auth) {
		t.Errorf("handshake.auth = %s, want %s", show(h["auth"]), show(auth))
	}
}

func (e *env) testRemoteSocketEmit(t *testing.T) {
	// Node: fetchSockets() then RemoteSocket.emit on a Go socket (flags
	// expectSingleResponse).
	n := e.node.call(t, "remoteEmit", map[string]any{"rooms": []string{e.gg.ID()}, "ev": "rs-node", "args": []any{"hi", []byte{9}}})
	if n != float64(1) {
		t.Fatalf("remoteEmit matched %v sockets", n)
	}
	expectOnce(t, e.all, []peer{e.gg}, "rs-node", []any{"hi", []byte{9}})

	var sockets []*socket.RemoteSocket
	var ferr error
	e.goNode.IO.In(socket.Room(e.nn.ID())).FetchSockets()(func(s []*socket.RemoteSocket, err error) { sockets, ferr = s, err })
	if ferr != nil || len(sockets) != 1 {
		t.Fatalf("FetchSockets: %d sockets, %v", len(sockets), ferr)
	}
	if err := sockets[0].Emit("rs-go", "hi", []byte{8}); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, e.all, []peer{e.nn}, "rs-go", []any{"hi", []byte{8}})
}

func (e *env) testAllRooms(t *testing.T) {
	if e.envelopes() {
		t.Skip("the sharded protocol has no allRooms request (Node's ClusterAdapter does not implement it)")
	}
	res := e.node.call(t, "allRooms", nil)
	rooms := strs(res)
	for _, r := range []string{e.gg.ID(), e.ng.ID(), e.nn.ID(), e.gn.ID(), "r1", "r2", "r3", roomHash, room20} {
		if !slices.Contains(rooms, r) {
			t.Errorf("Node allRooms() lacks %q: %v", r, rooms)
		}
	}
	set, err := e.goNode.IO.Of("/", nil).Adapter().(*redisadapter.Adapter).AllRooms(siotest.Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{e.gg.ID(), e.ng.ID(), e.nn.ID(), e.gn.ID(), "r1", "r2", "r3", roomHash, room20} {
		if !set.Has(socket.Room(r)) {
			t.Errorf("Go AllRooms lacks %q: %v", r, set.Keys())
		}
	}
	res = e.node.call(t, "allRooms", map[string]any{"nsp": "/admin"})
	if rooms := strs(res); !slices.Equal(rooms, sorted(e.ggA.ID(), e.nnA.ID())) {
		t.Errorf("Node allRooms(/admin) = %v", rooms)
	}
}

// ---------------------------------------------------------------------------

func (e *env) testSocketsJoinLeave(t *testing.T) {
	t.Run("NodeOnGo", func(t *testing.T) {
		e.node.call(t, "socketsJoin", map[string]any{"rooms": []string{e.gg.ID()}, "join": []string{"sj-n", "sj-n2"}})
		eventually(t, "gg in sj-n", func() bool {
			r := e.goSocketRooms(e.gg.ID())
			return slices.Contains(r, "sj-n") && slices.Contains(r, "sj-n2")
		})
		e.waitRoom(t, "/", "sj-n", 1)
		e.node.call(t, "emit", map[string]any{"rooms": []string{"sj-n"}, "ev": "after-sj-n"})
		expectOnce(t, e.all, []peer{e.gg}, "after-sj-n", []any{})
		e.node.call(t, "socketsLeave", map[string]any{"rooms": []string{"sj-n"}, "leave": []string{"sj-n"}})
		eventually(t, "gg left sj-n", func() bool {
			r := e.goSocketRooms(e.gg.ID())
			return !slices.Contains(r, "sj-n") && slices.Contains(r, "sj-n2")
		})
	})
	t.Run("GoOnNode", func(t *testing.T) {
		e.goNode.IO.In(socket.Room(e.nn.ID())).SocketsJoin("sj-g", "sj-g2")
		eventually(t, "nn in sj-g", func() bool {
			r := e.nodeSocketRooms(t, e.nn.ID())
			return slices.Contains(r, "sj-g") && slices.Contains(r, "sj-g2")
		})
		e.waitRoom(t, "/", "sj-g", 1)
		if err := e.goNode.IO.To("sj-g").Emit("after-sj-g"); err != nil {
			t.Fatal(err)
		}
		expectOnce(t, e.all, []peer{e.nn}, "after-sj-g", []any{})
		e.goNode.IO.In("sj-g").SocketsLeave("sj-g")
		eventually(t, "nn left sj-g", func() bool {
			r := e.nodeSocketRooms(t, e.nn.ID())
			return !slices.Contains(r, "sj-g") && slices.Contains(r, "sj-g2")
		})
	})
	t.Run("BothSides", func(t *testing.T) {
		// Go: sockets of room r1 (gg on Go, nn on Node) join "both".
		e.goNode.IO.In("r1").SocketsJoin("both")
		eventually(t, "r1 members in both", func() bool {
			return slices.Contains(e.goSocketRooms(e.gg.ID()), "both") && slices.Contains(e.nodeSocketRooms(t, e.nn.ID()), "both")
		})
		// Node: everyone except r1 joins "others": ng (on Go) and gn (on Node).
		e.node.call(t, "socketsJoin", map[string]any{"except": []string{"r1"}, "join": []string{"others"}})
		eventually(t, "non-r1 sockets in others", func() bool {
			return slices.Contains(e.goSocketRooms(e.ng.ID()), "others") && slices.Contains(e.nodeSocketRooms(t, e.gn.ID()), "others") &&
				!slices.Contains(e.goSocketRooms(e.gg.ID()), "others") && !slices.Contains(e.nodeSocketRooms(t, e.nn.ID()), "others")
		})
		// Node: every socket of "both" leaves it, on both servers.
		e.node.call(t, "socketsLeave", map[string]any{"rooms": []string{"both"}, "leave": []string{"both"}})
		eventually(t, "both emptied", func() bool {
			return !slices.Contains(e.goSocketRooms(e.gg.ID()), "both") && !slices.Contains(e.nodeSocketRooms(t, e.nn.ID()), "both")
		})
		// Go: "others" leaves it.
		e.goNode.IO.In("others").SocketsLeave("others")
		eventually(t, "others emptied", func() bool {
			return !slices.Contains(e.goSocketRooms(e.ng.ID()), "others") && !slices.Contains(e.nodeSocketRooms(t, e.gn.ID()), "others")
		})
	})
}

func (e *env) testDisconnectSockets(t *testing.T) {
	vNG := e.nc.dial(t, "victim-ng", e.goNode.URL, "/", nil, nil)
	vNG2 := e.nc.dial(t, "victim-ng2", e.goNode.URL, "/", nil, nil)
	vGN := dialGo(t, "victim-gn", e.node.URL, "/", nil)
	vGN2 := dialGo(t, "victim-gn2", e.node.URL, "/", nil)

	// Node disconnects sockets of the Go server.
	e.node.call(t, "disconnectSockets", map[string]any{"rooms": []string{vNG.ID()}, "close": true})
	if got := vNG.Expect(t, "disconnect"); !serverDisconnect(got) {
		t.Errorf("disconnect reason %v", got)
	}
	e.node.call(t, "disconnectSockets", map[string]any{"rooms": []string{vNG2.ID()}, "close": false})
	// socket.io v2.5.0 sometimes closes the transport right behind the
	// DISCONNECT packet, so the client may report either reason.
	if got := vNG2.Expect(t, "disconnect"); !serverDisconnect(got) {
		t.Errorf("disconnect reason %v", got)
	}
	eventually(t, "sockets gone from the Go server", func() bool {
		return e.goSocketRooms(vNG.ID()) == nil && e.goSocketRooms(vNG2.ID()) == nil
	})
	// Go disconnects sockets of the Node server.
	e.goNode.IO.In(socket.Room(vGN.ID())).DisconnectSockets(true)
	if got := vGN.Expect(t, "disconnect"); !serverDisconnect(got) {
		t.Errorf("disconnect reason %v", got)
	}
	e.goNode.IO.In(socket.Room(vGN2.ID())).DisconnectSockets(false)
	if got := vGN2.Expect(t, "disconnect"); !serverDisconnect(got) {
		t.Errorf("disconnect reason %v", got)
	}
	eventually(t, "sockets gone from the Node server", func() bool {
		return e.nodeSocketRooms(t, vGN.ID()) == nil && e.nodeSocketRooms(t, vGN2.ID()) == nil
	})
	// nobody else was disconnected
	time.Sleep(quiet)
	for _, p := range e.all {
		if d := p.Pending("disconnect"); len(d) > 0 {
			t.Errorf("%s was disconnected too: %v", p.Name(), d)
		}
	}
}

// serverDisconnect tells whether a client's disconnect reason is one of a
// server-side disconnect(close=true): the DISCONNECT packet races the end of
// the connection in both zishang's server and socket.io-client-go, so
// "transport close" may come instead of "io server disconnect", for local
// disconnections as well.
func serverDisconnect(args []any) bool {
	return len(args) > 0 && (args[0] == "io server disconnect" || args[0] == "transport close")
}

// ---------------------------------------------------------------------------

func (e *env) expectGoSSE(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev := <-e.goSSE:
		return ev
	case <-time.After(waitEvent):
		t.Fatal("Go server: no server-side emit")
		return sseEvent{}
	}
}

func (e *env) noGoSSE(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-e.goSSE:
		t.Fatalf("Go server: unexpected server-side emit %+v", ev)
	case <-time.After(d):
	}
}

func (e *env) testServerSideEmit(t *testing.T) {
	obj := map[string]any{"k": []any{float64(1), "two"}, "nil": nil}
	t.Run("NodeToGo", func(t *testing.T) {
		e.node.call(t, "serverSideEmit", map[string]any{"ev": "sse", "args": []any{"a", 1.5, obj}})
		got := e.expectGoSSE(t)
		if want := (sseEvent{"/", "sse", []any{"a", 1.5, obj}}); !reflect.DeepEqual(got, want) {
			t.Errorf("Go got %+v, want %+v", got, want)
		}
		e.node.noSSE(t, quiet) // the sender does not get its own
		e.node.call(t, "serverSideEmit", map[string]any{"nsp": "/admin", "ev": "sse2", "args": []any{"adm"}})
		if got, want := e.expectGoSSE(t), (sseEvent{"/admin", "sse2", []any{"adm"}}); !reflect.DeepEqual(got, want) {
			t.Errorf("Go got %+v, want %+v", got, want)
		}
	})
	t.Run("NodeToGoWithAck", func(t *testing.T) {
		res := e.node.call(t, "serverSideEmit", map[string]any{"ev": "sse-ack", "args": []any{float64(1)}, "ack": true})
		if got, want := e.expectGoSSE(t), (sseEvent{"/", "sse-ack", []any{float64(1)}}); !reflect.DeepEqual(got, want) {
			t.Errorf("Go got %+v, want %+v", got, want)
		}
		if want := map[string]any{"err": nil, "responses": []any{"pong-go"}}; !reflect.DeepEqual(res, want) {
			t.Errorf("Node ack got %s, want %s", show(res), show(want))
		}
	})
	t.Run("GoToNode", func(t *testing.T) {
		if err := e.goNode.IO.ServerSideEmit("sse", "b", 2.5, obj); err != nil {
			t.Fatal(err)
		}
		if got, want := e.node.expectSSE(t), (sseEvent{"/", "sse", []any{"b", 2.5, obj}}); !reflect.DeepEqual(got, want) {
			t.Errorf("Node got %+v, want %+v", got, want)
		}
		e.noGoSSE(t, quiet)
		if err := e.goNode.IO.Of("/admin", nil).ServerSideEmit("sse2", "adm"); err != nil {
			t.Fatal(err)
		}
		if got, want := e.node.expectSSE(t), (sseEvent{"/admin", "sse2", []any{"adm"}}); !reflect.DeepEqual(got, want) {
			t.Errorf("Node got %+v, want %+v", got, want)
		}
	})
	t.Run("GoToNodeWithAck", func(t *testing.T) {
		var answers []any
		var aerr error
		done := make(chan struct{})
		err := e.goNode.IO.ServerSideEmitWithAck("sse-ack", float64(3))(func(a []any, err error) { answers, aerr = a, err; close(done) })
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(waitCall):
			t.Fatal("no ack")
		}
		if got, want := e.node.expectSSE(t), (sseEvent{"/", "sse-ack", []any{float64(3)}}); !reflect.DeepEqual(got, want) {
			t.Errorf("Node got %+v, want %+v", got, want)
		}
		if aerr != nil || !reflect.DeepEqual(norm(answers), []any{"pong-node"}) {
			t.Errorf("Go ack got %#v, %v; want [pong-node]", answers, aerr)
		}
	})
	t.Run("Binary", func(t *testing.T) {
		// Node->Node: classic requests are JSON (a Buffer arrives as
		// {"type":"Buffer","data":[..]}); sharded ones switch to msgpack
		// when binary is present (a Buffer arrives as a Buffer).
		e.node.call(t, "serverSideEmit", map[string]any{"ev": "sse", "args": []any{[]byte{1, 2}}})
		got := e.expectGoSSE(t)
		var want any = []byte{1, 2}
		if !e.envelopes() {
			want = map[string]any{"type": "Buffer", "data": []any{float64(1), float64(2)}}
		}
		if !reflect.DeepEqual(got.Args, []any{want}) {
			t.Errorf("Go got %s, want %s", show(got.Args), show([]any{want}))
		}
		// Go->Node: sioredis sends a request with binary as msgpack in both
		// modes (Node >= 7.2 decodes msgpack requests), so the Buffer stays
		// a Buffer, where a Node sender would give the JSON form above.
		if err := e.goNode.IO.ServerSideEmit("sse", []byte{3, 4}); err != nil {
			t.Fatal(err)
		}
		got = e.node.expectSSE(t)
		if !reflect.DeepEqual(got.Args, []any{[]byte{3, 4}}) {
			t.Errorf("Node got %s, want [Buffer<03 04>]", show(got.Args))
		}
	})
}

func (e *env) testBroadcastWithAck(t *testing.T) {
	answers := func(ps ...peer) []string {
		var out []string
		for _, p := range ps {
			out = append(out, "answer-"+p.ID())
		}
		sort.Strings(out)
		return out
	}
	goAsk := func(t *testing.T, op *socket.BroadcastOperator, ev string) ([]string, error) {
		var got []any
		var gerr error
		done := make(chan struct{})
		op.Timeout(requestsTimeout).EmitWithAck(ev, "q?")(func(a []any, err error) { got, gerr = a, err; close(done) })
		select {
		case <-done:
		case <-time.After(waitCall):
			t.Fatal("EmitWithAck never called back")
		}
		return strs(got), gerr
	}
	nodeAsk := func(t *testing.T, p map[string]any) ([]string, any) {
		p["timeout"] = requestsTimeout.Milliseconds()
		p["args"] = []any{"q?"}
		res := e.node.call(t, "emitWithAck", p).(map[string]any)
		return strs(res["responses"]), res["err"]
	}
	all := []peer{e.gg, e.ng, e.nn, e.gn}
	t.Run("GoToAll", func(t *testing.T) {
		got, err := goAsk(t, e.goNode.IO.Of("/", nil).To(), "ask-g")
		if err != nil || !slices.Equal(got, answers(all...)) {
			t.Errorf("got %v, %v; want %v", got, err, answers(all...))
		}
		expectOnce(t, e.all, all, "ask-g", []any{"q?"})
	})
	t.Run("NodeToAll", func(t *testing.T) {
		got, err := nodeAsk(t, map[string]any{"ev": "ask-n"})
		if err != nil || !slices.Equal(got, answers(all...)) {
			t.Errorf("got %v, %v; want %v", got, err, answers(all...))
		}
		expectOnce(t, e.all, all, "ask-n", []any{"q?"})
	})
	binAnswers := func(ps ...peer) []string {
		var out []string
		for _, p := range ps {
			out = append(out, show(map[string]any{"from": p.ID(), "b": []byte{1, 2}}))
		}
		sort.Strings(out)
		return out
	}
	t.Run("BinaryAcks", func(t *testing.T) {
		// Go asks, every client answers with binary.
		var got []any
		var gerr error
		done := make(chan struct{})
		e.goNode.IO.Timeout(requestsTimeout).EmitWithAck("askbin-g", "q?")(func(a []any, err error) { got, gerr = a, err; close(done) })
		select {
		case <-done:
		case <-time.After(waitCall):
			t.Fatal("EmitWithAck never called back")
		}
		var have []string
		for _, a := range got {
			have = append(have, show(norm(a)))
		}
		sort.Strings(have)
		if want := binAnswers(all...); gerr != nil || !slices.Equal(have, want) {
			t.Errorf("Go got %v, %v; want %v", have, gerr, want)
		}
		// Node asks.
		res := e.node.call(t, "emitWithAck", map[string]any{"ev": "askbin-n", "timeout": requestsTimeout.Milliseconds(), "args": []any{"q?"}}).(map[string]any)
		have = nil
		for _, a := range res["responses"].([]any) {
			have = append(have, show(a))
		}
		sort.Strings(have)
		if want := binAnswers(all...); res["err"] != nil || !slices.Equal(have, want) {
			t.Errorf("Node got %v, %v; want %v", have, res["err"], want)
		}
		for _, p := range all {
			p.Pending("askbin-g")
			p.Pending("askbin-n")
		}
	})
	t.Run("GoToRoom", func(t *testing.T) {
		got, err := goAsk(t, e.goNode.IO.To("r2"), "ask-g2")
		if want := answers(e.nn, e.ng); err != nil || !slices.Equal(got, want) {
			t.Errorf("got %v, %v; want %v", got, err, want)
		}
		expectOnce(t, e.all, []peer{e.nn, e.ng}, "ask-g2", []any{"q?"})
	})
	t.Run("NoLocalMatch", func(t *testing.T) {
		// The asking server has no matching client: it must still get the
		// other server's count (and the other server must send a count of 0
		// when it has none), or the call only ends with its timeout.
		start := time.Now()
		got, err := goAsk(t, e.goNode.IO.To(socket.Room(e.nn.ID())), "ask-g3")
		if want := answers(e.nn); err != nil || !slices.Equal(got, want) {
			t.Errorf("Go: got %v, %v; want %v", got, err, want)
		}
		got2, err2 := nodeAsk(t, map[string]any{"ev": "ask-n3", "rooms": []string{e.ng.ID()}})
		if want := answers(e.ng); err2 != nil || !slices.Equal(got2, want) {
			t.Errorf("Node: got %v, %v; want %v", got2, err2, want)
		}
		if took := time.Since(start); took > requestsTimeout {
			t.Errorf("took %v", took)
		}
		expectOnce(t, e.all, []peer{e.nn}, "ask-g3", []any{"q?"})
		expectOnce(t, e.all, []peer{e.ng}, "ask-n3", []any{"q?"})
	})
	t.Run("NodeToRoomExcept", func(t *testing.T) {
		got, err := nodeAsk(t, map[string]any{"ev": "ask-n2", "rooms": []string{"r1", "r3"}, "except": []string{"r2"}})
		if want := answers(e.gg, e.gn); err != nil || !slices.Equal(got, want) {
			t.Errorf("got %v, %v; want %v", got, err, want)
		}
		expectOnce(t, e.all, []peer{e.gg, e.gn}, "ask-n2", []any{"q?"})
	})
}

// ---------------------------------------------------------------------------

func (e *env) testNodeEmitter(t *testing.T) {
	if e.envelopes() {
		t.Skip("@socket.io/redis-emitter only speaks the classic protocol")
	}
	emit := func(c map[string]any) { runEmitter(t, e.bin, e.redisURL, c) }
	t.Run("Broadcast", func(t *testing.T) {
		// One emitter.js process for all broadcasts, then check each.
		runEmitter(t, e.bin, e.redisURL,
			map[string]any{"ev": "em-all", "args": []any{"a", float64(1), map[string]any{"n": 1.5}}},
			map[string]any{"ev": "em-room", "rooms": []string{"r2"}},
			map[string]any{"ev": "em-rooms-except", "rooms": []string{"r1", "r3"}, "except": []string{"r2"}},
			map[string]any{"ev": "em-except", "except": []string{"r1"}},
			map[string]any{"ev": "em-admin", "nsp": "admin", "args": []any{"adm"}},
			map[string]any{"ev": "em-bin", "args": []any{[]byte{1, 2, 3}, map[string]any{"b": []byte{4}}}},
			map[string]any{"ev": "em-vol", "volatile": true, "compress": false},
			map[string]any{"ev": "em-direct", "rooms": []string{e.ng.ID()}},
		)
		all := []peer{e.gg, e.ng, e.nn, e.gn}
		expectOnce(t, e.all, all, "em-all", []any{"a", float64(1), map[string]any{"n": 1.5}})
		expectOnce(t, e.all, []peer{e.nn, e.ng}, "em-room", []any{})
		expectOnce(t, e.all, []peer{e.gg, e.gn}, "em-rooms-except", []any{})
		expectOnce(t, e.all, []peer{e.ng, e.gn}, "em-except", []any{})
		expectOnce(t, e.all, []peer{e.ggA, e.nnA}, "em-admin", []any{"adm"})
		expectOnce(t, e.all, all, "em-bin", []any{[]byte{1, 2, 3}, map[string]any{"b": []byte{4}}})
		expectOnce(t, e.all, all, "em-vol", []any{})
		expectOnce(t, e.all, []peer{e.ng}, "em-direct", []any{})
	})
	t.Run("SocketsJoinLeave", func(t *testing.T) {
		emit(map[string]any{"op": "socketsJoin", "rooms": []string{"r1"}, "join": []string{"em-j"}})
		eventually(t, "r1 members in em-j", func() bool {
			return slices.Contains(e.goSocketRooms(e.gg.ID()), "em-j") && slices.Contains(e.nodeSocketRooms(t, e.nn.ID()), "em-j")
		})
		emit(map[string]any{"op": "socketsLeave", "rooms": []string{"em-j"}, "leave": []string{"em-j"}})
		eventually(t, "em-j emptied", func() bool {
			return !slices.Contains(e.goSocketRooms(e.gg.ID()), "em-j") && !slices.Contains(e.nodeSocketRooms(t, e.nn.ID()), "em-j")
		})
	})
	t.Run("DisconnectSockets", func(t *testing.T) {
		v := e.nc.dial(t, "victim-em", e.goNode.URL, "/", nil, nil)
		v2 := e.nc.dial(t, "victim-em2", e.goNode.URL, "/", nil, nil)
		emit(map[string]any{"op": "disconnectSockets", "rooms": []string{v.ID()}, "close": true})
		if got := v.Expect(t, "disconnect"); !serverDisconnect(got) {
			t.Errorf("disconnect reason %v", got)
		}
		emit(map[string]any{"op": "disconnectSockets", "rooms": []string{v2.ID()}, "close": false})
		if got := v2.Expect(t, "disconnect"); !reflect.DeepEqual(got, []any{"io server disconnect"}) {
			t.Errorf("disconnect reason %v", got)
		}
	})
	t.Run("ServerSideEmit", func(t *testing.T) {
		emit(map[string]any{"op": "serverSideEmit", "ev": "sse", "args": []any{"from-emitter", float64(7)}})
		want := sseEvent{"/", "sse", []any{"from-emitter", float64(7)}}
		if got := e.expectGoSSE(t); !reflect.DeepEqual(got, want) {
			t.Errorf("Go got %+v, want %+v", got, want)
		}
		if got := e.node.expectSSE(t); !reflect.DeepEqual(got, want) {
			t.Errorf("Node got %+v, want %+v", got, want)
		}
	})
}
