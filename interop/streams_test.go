package interop_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// TestStreams runs the whole suite with Node's
// @socket.io/redis-streams-adapter 0.3.1 and redisadapter.NewStreams in one
// cluster on one Redis: broadcasts and socket operations through the
// stream, fetchSockets, server-side emits and acks over pub/sub.
func TestStreams(t *testing.T) {
	bin := requireNode(t)
	srv := redistest.Start(t)
	e := &env{streams: true, bin: bin, redisURL: srv.URL(), admin: srv.Client(t)}
	e.newRDB = func() redis.UniversalClient { return redis.NewClient(srv.Options()) }
	e.start(t, []string{"SIO_MODE=streams", "SIO_REDIS_URL=" + srv.URL()},
		func(rdb redis.UniversalClient) socket.AdapterConstructor {
			return redisadapter.NewStreams(rdb, redisadapter.WithRequestsTimeout(requestsTimeout))
		})
	e.run(t)
}

// TestStreamsRecovery: connection state recovery in a mixed cluster. A
// client whose session a Node server persisted comes back on a Go server,
// and the reverse; each gets its id back and exactly the packets broadcast
// to its room meanwhile (by both servers), in order, with their offsets.
func TestStreamsRecovery(t *testing.T) {
	bin := requireNode(t)
	srv := redistest.Start(t)
	const window = 60 * time.Second
	node := startNodeServer(t, bin, "node", "SIO_MODE=streams", "SIO_REDIS_URL="+srv.URL(),
		fmt.Sprintf("SIO_CSR=%d", window.Milliseconds()))
	rdb := redis.NewClient(srv.Options())
	b := redisadapter.NewStreams(rdb, redisadapter.WithRequestsTimeout(requestsTimeout))
	goNode := siotest.StartNodeWith(t, "go", rdb, b, func(o *socket.ServerOptions) {
		csr := &socket.ConnectionStateRecovery{}
		csr.SetMaxDisconnectionDuration(window.Milliseconds())
		o.SetConnectionStateRecovery(csr)
	})
	admin := srv.Client(t)
	e := &env{streams: true, admin: admin}
	e.waitServers(t, "/", 2)

	emitGo := func(i int) {
		if err := goNode.IO.To("r").Emit("tick", i); err != nil {
			t.Fatal(err)
		}
	}
	emitNode := func(i int) {
		node.call(t, "emit", map[string]any{"rooms": []string{"r"}, "ev": "tick", "args": []any{float64(i)}})
	}
	cases := []struct {
		name     string
		from, to string
	}{
		{"PersistedByNodeRestoredByGo", node.URL, goNode.URL},
		{"PersistedByGoRestoredByNode", goNode.URL, node.URL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := siotest.DialRawWith(t, c.from, "/", nil, siotest.RawOptions{}, false)
			if rc.PID == "" {
				t.Fatal("no pid: recovery is off")
			}
			if got := rc.Call("join", "r"); len(got) != 1 || got[0] != "ok" {
				t.Fatalf("join: %v", got)
			}
			emitGo(0)
			emitNode(1)
			checkTicks(t, rc.ExpectExactly("tick", 2), 0)
			sid, pid, offset := rc.ID, rc.PID, rc.LastOffset()
			rc.Drop()
			eventually(t, "the session stored", func() bool {
				n, err := admin.Exists(siotest.Ctx(t), "sio:session:"+pid).Result()
				return err == nil && n == 1
			})
			const missed = 200
			for i := 2; i < 2+missed; i++ {
				if i%2 == 0 {
					emitGo(i)
				} else {
					emitNode(i)
				}
			}
			// Every tick is in the stream before the client comes back.
			eventually(t, "the ticks in the stream", func() bool {
				n, err := admin.XLen(siotest.Ctx(t), "socket.io").Result()
				return err == nil && n >= missed
			})
			back := siotest.DialRawWith(t, c.to, "/", nil, siotest.RawOptions{Auth: map[string]any{"pid": pid, "offset": offset}}, false)
			if back.ID != sid {
				t.Fatalf("came back as %s, want the recovered %s", back.ID, sid)
			}
			// The two servers add concurrently: the order is the stream's.
			order := streamTicks(t, admin, offset)
			if len(order) != missed {
				t.Fatalf("%d ticks in the stream after the offset, want %d", len(order), missed)
			}
			checkOrder(t, back.ExpectExactly("tick", missed), order)
			emitGo(2 + missed)
			checkOrder(t, back.ExpectExactly("tick", missed+1), append(order, 2+missed))
			back.Close()
		})
	}
}

// streamTicks returns the tick indices of the stream's broadcasts after
// offset, in stream order.
func streamTicks(t *testing.T, admin redis.UniversalClient, offset string) []int {
	t.Helper()
	entries, err := admin.XRange(siotest.Ctx(t), "socket.io", "("+offset, "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, en := range entries {
		m, err := protocol.DecodeStreamEntry(en.Values)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == protocol.MsgBroadcast && len(m.Packet.Data) == 2 && m.Packet.Data[0] == "tick" {
			out = append(out, int(m.Packet.Data[1].(float64)))
		}
	}
	return out
}

// checkOrder checks that frames are the ticks of order, in that order,
// each with its stream offset.
func checkOrder(t *testing.T, frames []siotest.Frame, order []int) {
	t.Helper()
	for k, f := range frames {
		if len(f.Args) != 2 {
			t.Fatalf("tick #%d: args %v, want [index, offset]", k, f.Args)
		}
		if i := int(f.Args[0].(float64)); i != order[k] {
			t.Fatalf("tick #%d is %d, want %d (%s)", k, i, order[k], f.Raw)
		}
		if _, ok := f.Args[1].(string); !ok {
			t.Fatalf("tick #%d has no offset: %v", k, f.Args)
		}
	}
}

// checkTicks checks that frames are ticks from, from+1, ... in order, each
// with its stream offset as last argument.
func checkTicks(t *testing.T, frames []siotest.Frame, from int) {
	t.Helper()
	for k, f := range frames {
		if len(f.Args) != 2 {
			t.Fatalf("tick #%d: args %v, want [index, offset]", k, f.Args)
		}
		if i := int(f.Args[0].(float64)); i != from+k {
			t.Fatalf("tick #%d is %d, want %d (%s)", k, i, from+k, f.Raw)
		}
		if _, ok := f.Args[1].(string); !ok {
			t.Fatalf("tick #%d has no offset: %v", k, f.Args)
		}
	}
}
