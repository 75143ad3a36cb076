package redisadapter_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	client "github.com/zishang520/socket.io-client-go/socket"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// dialWithAuth connects n clients to node with an auth payload of size
// bytes each: minimal Engine.IO v4 / Socket.IO v5 clients over real
// WebSockets (a CONNECT packet with the auth object), which stay connected
// until the test ends.
func dialWithAuth(t *testing.T, node *siotest.Node, n, size int) {
	t.Helper()
	auth, err := json.Marshal(map[string]any{"token": strings.Repeat("x", size)})
	if err != nil {
		t.Fatal(err)
	}
	u := "ws" + strings.TrimPrefix(node.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	for i := 0; i < n; i++ {
		var last error
		// socket.io v2.5.0 can lose a CONNECT sent right after the open
		// packet: a short wait, then a fresh connection.
		for attempt := 0; attempt < 6; attempt++ {
			if last = connectWithAuth(t, u, auth); last == nil {
				break
			}
		}
		if last != nil {
			t.Fatalf("client %d: %v", i, last)
		}
	}
	siotest.Eventually(t, "clients connected", func() bool { return node.IO.Of("/", nil).Sockets().Len() >= n })
}

func connectWithAuth(t *testing.T, u string, auth []byte) error {
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, open, err := conn.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{") {
		conn.Close()
		return fmt.Errorf("no open packet: %q %v", open, err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, append([]byte("40"), auth...)); err != nil {
		conn.Close()
		return err
	}
	for {
		_, m, err := conn.ReadMessage()
		if err != nil {
			conn.Close()
			return fmt.Errorf("no CONNECT answer: %w", err)
		}
		if strings.HasPrefix(string(m), "40{") {
			break
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	// Keep reading (and answer pings) so that the server keeps the session.
	go func() {
		for {
			_, m, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if string(m) == "2" {
				_ = conn.WriteMessage(websocket.TextMessage, []byte("3"))
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return nil
}

func fetchAll(t *testing.T, n *siotest.Node) ([]*socket.RemoteSocket, error, time.Duration) {
	t.Helper()
	start := time.Now()
	var got []*socket.RemoteSocket
	var err error
	n.IO.FetchSockets()(func(s []*socket.RemoteSocket, e error) { got, err = s, e })
	return got, err, time.Since(start)
}

// TestFetchSocketsHugeAuth reproduces the hostile clients of issue 21:
// clients with a 900 KB auth used to make an answer over the 16 MiB decode
// limit (fetchSockets timed out), or over Redis' 32 MB pubsub output
// buffer (every server's subscriber disconnected). Each description is now
// bounded: the answer arrives, without the oversized handshakes.
func TestFetchSocketsHugeAuth(t *testing.T) {
	srv := redistest.Start(t)
	ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
	ba := redisadapter.New(ra, redisadapter.WithRequestsTimeout(10*time.Second))
	bb := redisadapter.New(rb, redisadapter.WithRequestsTimeout(10*time.Second))
	a := siotest.StartNode(t, "a", ra, ba)
	b := siotest.StartNode(t, "b", rb, bb)
	const clients = 20
	dialWithAuth(t, b, clients, 900_000)
	got, err, took := fetchAll(t, a)
	if err != nil || len(got) != clients {
		t.Fatalf("fetchSockets: %d sockets, %v (after %v); want %d, nil", len(got), err, took, clients)
	}
	for _, s := range got {
		if auth, _ := s.Handshake().Auth.(map[string]any); len(auth) != 0 {
			t.Fatalf("an oversized auth was published (%d keys)", len(auth))
		}
		if s.Handshake().Address == "" {
			t.Fatal("the trimmed handshake lost the client's address")
		}
	}
	if st := bb.Stats(); st.DescriptionsTrimmed != clients {
		t.Fatalf("b: DescriptionsTrimmed = %d, want %d", st.DescriptionsTrimmed, clients)
	}
	for _, x := range []*redisadapter.Builder{ba, bb} {
		if st := x.Stats(); st.Reconnects != 0 || !st.Healthy {
			t.Fatalf("a server lost its subscriber: %+v", st)
		}
	}
}

// TestFetchSocketsAnswerTooLarge: an answer over the answer limit is not
// published; an empty answer marked too large goes instead, and the
// requester fails at once with ErrAnswerTooLarge (not at its timeout),
// with the sockets of the servers that could answer.
func TestFetchSocketsAnswerTooLarge(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name string
		mk   func(redis.UniversalClient, ...redisadapter.Option) *redisadapter.Builder
	}{{"classic", redisadapter.New}, {"sharded", redisadapter.NewSharded}} {
		t.Run(tc.name, func(t *testing.T) {
			rdbs := []*redis.Client{redis.NewClient(srv.Options()), redis.NewClient(srv.Options()), redis.NewClient(srv.Options())}
			timeout := redisadapter.WithRequestsTimeout(20 * time.Second)
			ba := tc.mk(rdbs[0], timeout)
			bb := tc.mk(rdbs[1], timeout, redisadapter.WithMaxAnswerBytes(256<<10))
			bc := tc.mk(rdbs[2], timeout)
			a := siotest.StartNode(t, "a", rdbs[0], ba)
			b := siotest.StartNode(t, "b", rdbs[1], bb)
			c := siotest.StartNode(t, "c", rdbs[2], bc)
			dialWithAuth(t, b, 12, 30_000) // about 360 KB
			c.Dial(t, "/", nil)
			got, err, took := fetchAll(t, a)
			if !errors.Is(err, redisadapter.ErrAnswerTooLarge) {
				t.Fatalf("fetchSockets error = %v, want ErrAnswerTooLarge", err)
			}
			if errors.Is(err, redisadapter.ErrTimeout) || took > 10*time.Second {
				t.Fatalf("fetchSockets waited for its timeout (%v): %v", took, err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d sockets, want c's 1", len(got))
			}
			if n := bb.Stats().AnswersTooLarge; n != 1 {
				t.Fatalf("b: AnswersTooLarge = %d, want 1", n)
			}
			if n := ba.Stats().AnswersTooLarge; n != 1 {
				t.Fatalf("a: AnswersTooLarge = %d, want 1", n)
			}
		})
	}
}

// TestFetchSocketsAnswersOnTheRequestersChannel: classic answers go to the
// requester's own channel by default, not to the shared one every server
// reads.
func TestFetchSocketsAnswersOnTheRequestersChannel(t *testing.T) {
	srv := redistest.Start(t)
	ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
	a := siotest.StartNode(t, "a", ra, redisadapter.New(ra))
	b := siotest.StartNode(t, "b", rb, redisadapter.New(rb))
	b.Dial(t, "/", nil)
	spy := srv.Client(t).Subscribe(siotest.Ctx(t), protocol.ResponseChannel(protocol.DefaultPrefix, "/"))
	defer spy.Close()
	if _, err := spy.Receive(siotest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	got, err, _ := fetchAll(t, a)
	if err != nil || len(got) != 1 {
		t.Fatalf("fetchSockets: %d, %v", len(got), err)
	}
	if m, err := spy.ReceiveTimeout(siotest.Ctx(t), 300*time.Millisecond); err == nil {
		t.Fatalf("an answer went to the shared response channel: %v", m)
	}
}

// TestHandshakeRedaction: credentials in headers are redacted by default,
// a filter of one's own replaces the default, and WithoutHandshakes
// publishes none of what the client sent.
func TestHandshakeRedaction(t *testing.T) {
	srv := redistest.Start(t)
	hdr := http.Header{"Cookie": {"session=s3cret"}, "Authorization": {"Bearer t0ken"}, "X-Trace": {"abc"}}
	q := url.Values{"token": {"q-secret"}, "room": {"lobby"}}
	for _, tc := range []struct {
		name  string
		opts  []redisadapter.Option
		check func(t *testing.T, hs *socket.Handshake)
	}{
		{"default", nil, func(t *testing.T, hs *socket.Handshake) {
			for _, h := range []string{"Cookie", "Authorization"} {
				if v := hs.Headers[h]; len(v) != 1 || v[0] != "[redacted]" {
					t.Fatalf("%s = %q, want redacted", h, v)
				}
			}
			if v := hs.Headers["X-Trace"]; len(v) != 1 || v[0] != "abc" {
				t.Fatalf("X-Trace = %q, want kept", v)
			}
		}},
		{"filter", []redisadapter.Option{redisadapter.WithHandshakeFilter(func(h *socket.Handshake) {
			redisadapter.RedactCredentials(h)
			delete(h.Query, "token")
			h.Auth = nil
		})}, func(t *testing.T, hs *socket.Handshake) {
			if _, ok := hs.Query["token"]; ok {
				t.Fatal("the filter's deletion was not applied")
			}
			if v := hs.Query["room"]; len(v) != 1 || v[0] != "lobby" {
				t.Fatalf("room = %q", v)
			}
			if v := hs.Headers["Cookie"]; len(v) != 1 || v[0] != "[redacted]" {
				t.Fatalf("Cookie = %q", v)
			}
		}},
		{"without handshakes", []redisadapter.Option{redisadapter.WithoutHandshakes()}, func(t *testing.T, hs *socket.Handshake) {
			if len(hs.Headers) != 0 || len(hs.Query) != 0 || hs.Url != "" {
				t.Fatalf("handshake published: %+v", hs)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
			a := siotest.StartNode(t, "a", ra, redisadapter.New(ra))
			b := siotest.StartNode(t, "b", rb, redisadapter.New(rb, tc.opts...))
			cl := siotest.DialWith(t, b.URL, "/", func(o *client.Options) {
				o.SetExtraHeaders(hdr)
				o.SetQuery(q)
			})
			local, ok := b.IO.Of("/", nil).Sockets().Load(socket.SocketId(cl.ID()))
			if !ok || local.Handshake().Headers["Cookie"][0] != "session=s3cret" {
				t.Fatal("the local socket's own handshake must stay intact")
			}
			got, err, _ := fetchAll(t, a)
			if err != nil || len(got) != 1 {
				t.Fatalf("fetchSockets: %d, %v", len(got), err)
			}
			if len(got[0].Rooms().Keys()) == 0 {
				t.Fatal("rooms missing")
			}
			tc.check(t, got[0].Handshake())
			if local.Handshake().Headers["Cookie"][0] != "session=s3cret" {
				t.Fatal("the filter edited the local socket's handshake")
			}
		})
	}
}
