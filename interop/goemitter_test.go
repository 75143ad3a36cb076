package interop_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/sioredis/sioredis/emitter"
)

// testGoEmitter drives the Go emitter against both servers: classic format
// in classic mode, sharded format (dynamic subscription mode) in sharded
// mode, which Node's own emitter does not offer.
func (e *env) testGoEmitter(t *testing.T) {
	rdb := e.newRDB()
	t.Cleanup(func() { _ = rdb.Close() })
	var em *emitter.Emitter
	if e.streams {
		em = emitter.New(rdb, emitter.WithStreams(true))
	} else if e.sharded {
		em = emitter.New(rdb, emitter.WithSharded(true), emitter.WithSubscriptionMode(emitter.SubscriptionMode(e.subMode)))
	} else {
		em = emitter.New(rdb)
	}
	all := []peer{e.gg, e.ng, e.nn, e.gn}

	t.Run("Broadcast", func(t *testing.T) {
		cases := []struct {
			name string
			em   *emitter.Emitter
			args []any
			want []peer
		}{
			{"all", em, []any{"a", 1.5, float64(7), map[string]any{"n": []any{float64(1)}, "nil": nil}}, all},
			{"room", em.To("r2"), nil, []peer{e.nn, e.ng}},
			{"node-only-room", em.To("r3"), nil, []peer{e.gn}},
			{"rooms-except", em.To("r1", "r3").Except("r2"), nil, []peer{e.gg, e.gn}},
			{"except", em.Except("r1"), nil, []peer{e.ng, e.gn}},
			{"admin", em.Of("admin"), []any{"adm"}, []peer{e.ggA, e.nnA}},
			{"binary", em, []any{[]byte{1, 2, 3}, map[string]any{"b": []byte{4}}}, all},
			{"volatile-compress", em.Volatile().Compress(false), []any{"v"}, all},
		}
		for _, target := range all {
			cases = append(cases, struct {
				name string
				em   *emitter.Emitter
				args []any
				want []peer
			}{"to-" + target.Name(), em.To(target.ID()), []any{"direct"}, []peer{target}})
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ev := "gem-" + c.name
				if err := c.em.Emit(ev, c.args...); err != nil {
					t.Fatal(err)
				}
				args := c.args
				if args == nil {
					args = []any{}
				}
				expectOnce(t, e.all, c.want, ev, args)
			})
		}
	})
	t.Run("SocketsJoinLeave", func(t *testing.T) {
		if err := em.In("r1").SocketsJoin("gem-j"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "r1 members in gem-j", func() bool {
			return slices.Contains(e.goSocketRooms(e.gg.ID()), "gem-j") && slices.Contains(e.nodeSocketRooms(t, e.nn.ID()), "gem-j")
		})
		e.waitRoom(t, "/", "gem-j", 2)
		if err := em.To("gem-j").Emit("gem-after-join"); err != nil {
			t.Fatal(err)
		}
		expectOnce(t, e.all, []peer{e.gg, e.nn}, "gem-after-join", []any{})
		if err := em.In("gem-j").SocketsLeave("gem-j"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "gem-j emptied", func() bool {
			return !slices.Contains(e.goSocketRooms(e.gg.ID()), "gem-j") && !slices.Contains(e.nodeSocketRooms(t, e.nn.ID()), "gem-j")
		})
	})
	t.Run("DisconnectSockets", func(t *testing.T) {
		vNG := e.nc.dial(t, "victim-gem-ng", e.goNode.URL, "/", nil, nil)
		vNN := e.nc.dial(t, "victim-gem-nn", e.node.URL, "/", nil, nil)
		if err := em.In(vNG.ID(), vNN.ID()).DisconnectSockets(true); err != nil {
			t.Fatal(err)
		}
		if got := vNG.Expect(t, "disconnect"); !serverDisconnect(got) {
			t.Errorf("Go server: disconnect reason %v", got)
		}
		if got := vNN.Expect(t, "disconnect"); !reflect.DeepEqual(got, []any{"io server disconnect"}) {
			t.Errorf("Node server: disconnect reason %v", got)
		}
	})
	t.Run("ServerSideEmit", func(t *testing.T) {
		if err := em.ServerSideEmit("sse", "from-go-emitter", float64(8)); err != nil {
			t.Fatal(err)
		}
		want := sseEvent{"/", "sse", []any{"from-go-emitter", float64(8)}}
		if got := e.expectGoSSE(t); !reflect.DeepEqual(got, want) {
			t.Errorf("Go got %+v, want %+v", got, want)
		}
		if got := e.node.expectSSE(t); !reflect.DeepEqual(got, want) {
			t.Errorf("Node got %+v, want %+v", got, want)
		}
		if err := em.Of("/admin").ServerSideEmit("sse2", "adm"); err != nil {
			t.Fatal(err)
		}
		want = sseEvent{"/admin", "sse2", []any{"adm"}}
		if got := e.expectGoSSE(t); !reflect.DeepEqual(got, want) {
			t.Errorf("Go got %+v, want %+v", got, want)
		}
		if got := e.node.expectSSE(t); !reflect.DeepEqual(got, want) {
			t.Errorf("Node got %+v, want %+v", got, want)
		}
	})
}
