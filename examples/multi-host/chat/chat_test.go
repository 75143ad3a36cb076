package chat_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/chat"
	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/examples/multi-host/internal/hosttest"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
)

// TestChatAcksWhileBroadcasting sends chat messages from clients on three
// hosts while the hosts broadcast: every sender gets its ack and every
// client every message, in order. With the stock in-memory delivery,
// engine.io v2.5.0 drops packets queued behind a broadcast in one WebSocket
// write batch (here: the ack), and this test fails in a good share of runs;
// redisadapter's own local delivery avoids it.
func TestChatAcksWhileBroadcasting(t *testing.T) {
	rs := redistest.Start(t)
	key := fmt.Sprintf("mh-chat-%d", time.Now().UnixNano())
	var cs []*siotest.Client
	// Raw-frame recorders next to the Go clients: one reader each, so a
	// repeat they see was sent twice by the server (socket.io-client-go
	// dispatches every packet on a goroutine of its own).
	var raws []*siotest.RawClient
	for i := 1; i <= 3; i++ {
		u := hosttest.Start(t, rs, fmt.Sprintf("host-%d", i), key, nil)
		raws = append(raws, siotest.DialRaw(t, u, "/", url.Values{"name": {fmt.Sprintf("r%d", i)}}, false))
		cs = append(cs, siotest.Dial(t, u, "/", url.Values{"name": {fmt.Sprintf("c%d", i)}}, events.Welcome, events.Chat))
		if w := cs[i-1].Expect(events.Welcome)[0].(map[string]any); w["host"] != fmt.Sprintf("host-%d", i) || w["name"] != fmt.Sprintf("c%d", i) {
			t.Fatalf("welcome %v", w)
		}
	}
	for j := 0; j < 30; j++ {
		text := fmt.Sprint("message ", j)
		sender := cs[j%3]
		if ack := sender.Call(events.Chat, text)[0].(map[string]any); ack["ok"] != true {
			t.Fatalf("ack %v", ack)
		}
		for _, c := range cs {
			if m := c.Expect(events.Chat)[0].(map[string]any); m["text"] != text || m["host"] != fmt.Sprintf("host-%d", j%3+1) {
				t.Fatalf("got %v, want %q from host-%d", m, text, j%3+1)
			}
		}
	}
	// Validation: empty and oversized messages are refused, not broadcast.
	for _, bad := range []string{"   ", strings.Repeat("x", 501)} {
		if ack := cs[0].Call(events.Chat, bad)[0].(map[string]any); ack["ok"] != false {
			t.Fatalf("ack %v for a bad message", ack)
		}
	}
	for _, c := range cs {
		c.ExpectNoMore(events.Chat) // each message exactly once
	}
	// Each message once; each host's in order. Across hosts the raw
	// clients may see messages in another order: the test waits for the Go
	// clients only, and a remote message can still be on its way to a raw
	// client when the next sender's local one is written.
	for _, r := range raws {
		seen := map[string]bool{}
		next := map[string]int{}
		for _, f := range r.ExpectExactly(events.Chat, 30) {
			m := f.Args[0].(map[string]any)
			id, host := m["id"].(string), m["host"].(string)
			var j int
			if _, err := fmt.Sscanf(m["text"].(string), "message %d", &j); err != nil || seen[id] || j < next[host] {
				t.Fatalf("raw client %s: frame #%d is %v: a repeat or out of order (%s's next was message %d or later)", r.ID, f.Seq, m, host, next[host])
			}
			seen[id] = true
			next[host] = j + 1
		}
	}
}

// TestBundledClientPinned checks that the embedded socket.io browser client
// is the pinned copy and is served with a JavaScript content type, and that
// the page and the sticky cookie are served.
func TestBundledClientPinned(t *testing.T) {
	h, err := chat.New(chat.Config{Name: "h", Redis: redistest.Start(t).Client(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	srv := httptestServer(t, h)

	resp, err := http.Get(srv + "/assets/socket.io.min.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != chat.ClientSHA256 {
		t.Fatalf("socket.io.min.js sha256 %s, want %s", got, chat.ClientSHA256)
	}
	if !strings.Contains(string(body[:200]), "Socket.IO v"+chat.ClientVersion) {
		t.Fatalf("socket.io.min.js is not version %s", chat.ClientVersion)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Fatalf("content type %q", ct)
	}
	if resp.Header.Get("Set-Cookie") == "" {
		t.Fatal("no sticky cookie on the first request")
	}

	resp, err = http.Get(srv + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `src="/assets/socket.io.min.js"`) || !strings.Contains(string(page), "served by h.") {
		t.Fatalf("page:\n%s", page)
	}
	var found bool
	for _, c := range resp.Cookies() {
		found = found || c.Name == events.StickyCookie && len(c.Value) == 32
	}
	if !found {
		t.Fatalf("no %s cookie in %v", events.StickyCookie, resp.Header["Set-Cookie"])
	}
	for path, want := range map[string]int{"/assets/index.html": 404, "/nope": 404, "/healthz": 200} {
		resp, err := http.Get(srv + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
