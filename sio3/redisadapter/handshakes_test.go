package redisadapter_test

import (
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// TestHandshakeCache: an answering server encodes each socket's handshake
// once, keeps answering with the socket's current data and rooms, and
// forgets the handshake when the socket leaves its own room or disconnects.
func TestHandshakeCache(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		name := "classic"
		if sharded {
			name = "sharded"
		}
		t.Run(name, func(t *testing.T) {
			srv := redistest.Start(t)
			build := redisadapter.New
			if sharded {
				build = redisadapter.NewSharded
			}
			n0 := siotest.StartNode(t, "n0", srv.Client(t), build(srv.Client(t)))
			n1 := siotest.StartNode(t, "n1", srv.Client(t), build(srv.Client(t)))
			a1 := adapterOf(n1, "/")
			c := n1.Dial(t, "/", url.Values{"who": {"c"}})
			fetch := func() *socket.RemoteSocket {
				t.Helper()
				var got []*socket.RemoteSocket
				var err error
				n0.IO.FetchSockets()(func(s []*socket.RemoteSocket, e error) { got, err = s, e })
				if err != nil || len(got) != 1 {
					t.Fatalf("%d sockets, %v", len(got), err)
				}
				return got[0]
			}
			for i, data := range []any{"first", "second"} {
				c.Call("set-data", data)
				c.Call("join", data.(string))
				s := fetch()
				if s.Data() != data || !s.Rooms().Has(socket.Room(data.(string))) {
					t.Fatalf("fetch %d: data %v, rooms %v", i, s.Data(), s.Rooms().Keys())
				}
				hs := s.Handshake()
				if q, _ := hs.Query["who"].([]string); !slices.Equal(q, []string{"c"}) || hs.Headers["Host"] == nil || hs.Headers["Connection"] == nil {
					t.Fatalf("fetch %d: handshake %+v", i, hs)
				}
				if n := redisadapter.CachedHandshakes(a1); n != 1 {
					t.Fatalf("fetch %d: %d cached handshakes", i, n)
				}
			}
			// The cached answer decodes to what an uncached one gives.
			cached := fetch().Handshake()
			c.Call("leave", c.ID())
			if n := redisadapter.CachedHandshakes(a1); n != 0 {
				t.Fatalf("%d cached handshakes after leaving the own room", n)
			}
			if fresh := fetch().Handshake(); !reflect.DeepEqual(cached, fresh) {
				t.Fatalf("cached handshake %+v, fresh %+v", cached, fresh)
			}
			c.S.Disconnect()
			siotest.Eventually(t, "handshake forgotten", func() bool { return redisadapter.CachedHandshakes(a1) == 0 })
		})
	}
}
