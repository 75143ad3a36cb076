package redisadapter_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// TestContextCallsAndMembers: the Go-native calls and the membership of
// the v2 binding, on v3 servers in both wire formats: the servers see each
// other as members, the context calls collect every server's answers, a
// client that never acknowledges gives a PartialError at the deadline, and
// a closed server is reported as left.
func TestContextCallsAndMembers(t *testing.T) {
	srv := redistest.Start(t)
	for _, sharded := range []bool{false, true} {
		t.Run(map[bool]string{false: "classic", true: "sharded"}[sharded], func(t *testing.T) {
			events := make(chan redisadapter.MemberEvent, 16)
			var nodes []*siotest.Node
			var builders []*redisadapter.Builder
			for i, name := range []string{"A", "B"} {
				rdb := redis.NewClient(srv.Options())
				opts := []redisadapter.Option{
					redisadapter.WithRequestsTimeout(3 * time.Second),
					redisadapter.WithHeartbeatInterval(200 * time.Millisecond),
					redisadapter.WithHeartbeatTimeout(time.Second),
				}
				if i == 0 {
					opts = append(opts, redisadapter.WithMemberListener(func(ev redisadapter.MemberEvent) { events <- ev }))
				}
				b := redisadapter.New(rdb, opts...)
				if sharded {
					b = redisadapter.NewSharded(rdb, opts...)
				}
				n := siotest.StartNode(t, name, rdb, b)
				_ = n.IO.On("who", func(args ...any) {
					args[len(args)-1].(socket.Ack)([]any{name}, nil)
				})
				nodes, builders = append(nodes, n), append(builders, b)
			}
			ra := nodes[0].IO.Of("/", nil).Adapter().(*redisadapter.Adapter)
			uidB := nodes[1].IO.Of("/", nil).Adapter().(*redisadapter.Adapter).Uid()
			siotest.Eventually(t, "B a member of A", func() bool {
				m := ra.Members()
				return len(m) == 1 && m[0].UID == uidB
			})
			for _, n := range nodes {
				c := n.Dial(t, "/", nil)
				name := n.Name
				_ = c.S.On("ask", func(args ...any) { args[len(args)-1].(socket.Ack)([]any{"from-" + name}, nil) })
			}

			socks, err := ra.FetchSocketsContext(context.Background(), nil)
			if err != nil || len(socks) != 2 {
				t.Fatalf("FetchSocketsContext: %d sockets, %v", len(socks), err)
			}
			answers, err := ra.ServerSideEmitWithAckContext(context.Background(), "who")
			if err != nil || !slices.Equal(answers, []any{"B"}) {
				t.Fatalf("ServerSideEmitWithAckContext: %v, %v", answers, err)
			}
			acks, err := ra.BroadcastWithAckContext(context.Background(), nil, "ask", "q?")
			slices.SortFunc(acks, func(x, y any) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
			if err != nil || !slices.Equal(acks, []any{"from-A", "from-B"}) {
				t.Fatalf("BroadcastWithAckContext: %v, %v", acks, err)
			}

			silent := nodes[1].Dial(t, "/", nil)
			_ = silent.S.On("ask", func(args ...any) {}) // never acknowledges
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			acks, err = ra.BroadcastWithAckContext(ctx, nil, "ask", "q?")
			var pe *redisadapter.PartialError
			if !errors.As(err, &pe) || !errors.Is(err, redisadapter.ErrTimeout) {
				t.Fatalf("error %v, want a PartialError wrapping ErrTimeout", err)
			}
			if len(acks) != 2 {
				t.Fatalf("acks %v, want the 2 that answered", acks)
			}

			nodes[1].Close()
			deadline := time.After(5 * time.Second)
			for left := false; !left; {
				select {
				case ev := <-events:
					left = ev.Member.UID == uidB && ev.Kind == redisadapter.MemberLeft
				case <-deadline:
					t.Fatal("no left event for B")
				}
			}
			if len(ra.Members()) != 0 || builders[0].Stats().MembersLeft == 0 {
				t.Fatalf("members %v, stats %+v", ra.Members(), builders[0].Stats())
			}
			nodes[0].Close()
			siotest.AssertNoGoroutines(t, "sioredis/sio3/redisadapter.")
		})
	}
}
