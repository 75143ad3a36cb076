package conformance

import (
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/sioredis/sioredis/internal/await"
	"github.com/sioredis/sioredis/internal/redistest"
)

// RunHandshakeCache: an answering server encodes each socket's handshake
// once, keeps answering with the socket's current data and rooms, and
// forgets the handshake when the socket leaves its own room or disconnects.
func RunHandshakeCache(t *testing.T, b Binding) {
	for _, sharded := range []bool{false, true} {
		t.Run(modeName(sharded), func(t *testing.T) {
			srv := redistest.Start(t)
			n0 := b.Serve(t, "n0", srv.Client(t), b.New(srv.Client(t), Config{Kind: kindOf(sharded)}))
			n1 := b.Serve(t, "n1", srv.Client(t), b.New(srv.Client(t), Config{Kind: kindOf(sharded)}))
			a1 := adapter(t, n1, "/")
			c := n1.Dial(t, "/", url.Values{"who": {"c"}})
			fetch := func() RemoteSocket {
				t.Helper()
				got, err := n0.FetchSockets(All)
				if err != nil || len(got) != 1 {
					t.Fatalf("%d sockets, %v", len(got), err)
				}
				return got[0]
			}
			for i, data := range []any{"first", "second"} {
				c.Call("set-data", data)
				c.Call("join", data.(string))
				s := fetch()
				if s.Data != data || !slices.Contains(s.Rooms, data.(string)) {
					t.Fatalf("fetch %d: data %v, rooms %v", i, s.Data, s.Rooms)
				}
				if q, _ := s.Query["who"].([]string); !slices.Equal(q, []string{"c"}) || s.Headers["Host"] == nil || s.Headers["Connection"] == nil {
					t.Fatalf("fetch %d: handshake %+v", i, s.Handshake)
				}
				if n := a1.CachedHandshakes(); n != 1 {
					t.Fatalf("fetch %d: %d cached handshakes", i, n)
				}
			}
			// The cached answer decodes to what an uncached one gives.
			cached := fetch().Handshake
			c.Call("leave", c.ID())
			if n := a1.CachedHandshakes(); n != 0 {
				t.Fatalf("%d cached handshakes after leaving the own room", n)
			}
			if fresh := fetch().Handshake; !reflect.DeepEqual(cached, fresh) {
				t.Fatalf("cached handshake %+v, fresh %+v", cached, fresh)
			}
			c.Disconnect()
			await.Eventually(t, "handshake forgotten", func() bool { return a1.CachedHandshakes() == 0 })
		})
	}
}
