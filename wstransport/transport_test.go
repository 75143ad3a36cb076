package wstransport_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/wstransport"
	"github.com/zishang520/engine.io/v2/types"
	client "github.com/zishang520/socket.io-client-go/socket"
	"github.com/zishang520/socket.io/v2/socket"
)

func TestMain(m *testing.M) {
	wstransport.Install()
	os.Exit(m.Run())
}

// server is a socket.io server with the in-memory adapter (which attaches a
// pre-encoded frame to every broadcast) whose connections count their
// write(2) calls.
type server struct {
	io     *socket.Server
	url    string
	writes atomic.Int64
	bytes  atomic.Int64
	gate   gate
}

// gate holds every connection's writes while closed.
type gate struct {
	mu   sync.RWMutex
	open chan struct{}
}

func (g *gate) hold() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) release() {
	g.mu.Lock()
	close(g.open)
	g.open = nil
	g.mu.Unlock()
}

func (g *gate) wait() {
	g.mu.RLock()
	open := g.open
	g.mu.RUnlock()
	if open != nil {
		<-open
	}
}

func startServer(t *testing.T, wrap bool, configure func(*socket.ServerOptions)) *server {
	t.Helper()
	return startServerOn(t, wrap, true, configure)
}

// startServerOn is startServer whose connections count their writes (and
// wait at the gate) only when counting: the transport writes inline only to
// a connection it can reach without waiting (a *net.TCPConn), not to a
// counting one.
func startServerOn(t *testing.T, wrap, counting bool, configure func(*socket.ServerOptions)) *server {
	t.Helper()
	opts := socket.DefaultServerOptions()
	if configure != nil {
		configure(opts)
	}
	s := &server{io: socket.NewServer(nil, opts)}
	s.io.On("connection", func(args ...any) {
		sk := args[0].(*socket.Socket)
		sk.On("join", func(a ...any) {
			sk.Join(socket.Room(a[0].(string)))
			a[len(a)-1].(socket.Ack)([]any{"ok"}, nil)
		})
		sk.On("echo", func(a ...any) {
			a[len(a)-1].(socket.Ack)(a[:len(a)-1], nil)
		})
		// socket.io (Go) runs the connection handler concurrently with
		// the client's first packets: say when the handlers are in place.
		sk.Emit("ready")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s.io.ServeHandler(nil)
	if wrap {
		h = wstransport.Handler(h)
	}
	srv := &http.Server{Handler: h}
	var l net.Listener = ln
	if counting {
		l = countingListener{ln, s}
	}
	go func() { _ = srv.Serve(l) }()
	s.url = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		done := make(chan struct{})
		s.io.Close(func(error) { close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("io.Close did not finish")
		}
		_ = srv.Close()
		siotest.AssertNoGoroutines(t, "sioredis/wstransport.")
	})
	return s
}

type countingListener struct {
	net.Listener
	s *server
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.s}, nil
}

// countingConn counts the connection's write(2) calls and waits at the
// server's gate before each.
type countingConn struct {
	net.Conn
	s *server
}

func (c countingConn) Write(p []byte) (int, error) {
	c.s.gate.wait()
	c.s.writes.Add(1)
	c.s.bytes.Add(int64(len(p)))
	return c.Conn.Write(p)
}

// dial connects a socket.io-client-go client that joined room "r", once the
// server's handlers are in place (its "ready" event).
func dial(t *testing.T, s *server) *siotest.Client {
	t.Helper()
	return dialWith(t, s.url, "ready", nil)
}

// dialWith is dial for any server that emits ready once its handlers are in
// place and acks "join" with ["ok"], with client options of the caller's.
func dialWith(t *testing.T, url, ready string, configure func(*client.Options)) *siotest.Client {
	t.Helper()
	for attempt := 0; ; attempt++ {
		c := siotest.DialWith(t, url, "/", configure, ready)
		select {
		case <-c.Chan(ready):
			if got := c.Call("join", "r"); len(got) != 1 || got[0] != "ok" {
				t.Fatalf("join: %v", got)
			}
			return c
		case <-time.After(3 * time.Second):
			// socket.io-client-go can lose an event that overtakes CONNECT.
			c.S.Disconnect()
			if attempt == 3 {
				t.Fatalf("no %q event", ready)
			}
		}
	}
}

// rawClient is a bare Engine.IO v4 WebSocket client: it sees the frames
// exactly as the server wrote them, in order (socket.io-client-go dispatches
// events on several goroutines and cannot tell).
type rawClient struct {
	t     *testing.T
	conn  *websocket.Conn
	count int
}

// rawDial connects a raw client to namespace "/" and joins room "r". Without
// Handler, socket.io v2.5.0 loses a CONNECT now and then (see Handler):
// attempts are bounded and retried.
func rawDial(t *testing.T, s *server) *rawClient {
	t.Helper()
	return rawDialURL(t, s.url, "ready")
}

// rawDialURL is rawDial for any server that emits ready once its handlers
// are in place and acks "join" with ["ok"].
func rawDialURL(t *testing.T, url, ready string) *rawClient {
	t.Helper()
	for attempt := 0; ; attempt++ {
		c, err := rawConnect(t, url, ready)
		if err == nil {
			c.send(`420["join","r"]`)
			c.expectPrefix(`430["ok"]`)
			return c
		}
		if attempt == 3 {
			t.Fatal(err)
		}
	}
}

// rawConnect opens a WebSocket and connects to namespace "/" (3 s at most).
func rawConnect(t *testing.T, url, ready string) (*rawClient, error) {
	return rawConnectWith(t, websocket.DefaultDialer, url, ready)
}

func rawConnectWith(t *testing.T, d *websocket.Dialer, url, ready string) (*rawClient, error) {
	u := url + "/socket.io/?EIO=4&transport=websocket"
	if strings.HasPrefix(url, "http") {
		u = "ws" + strings.TrimPrefix(u, "http")
	}
	conn, _, err := d.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &rawClient{t: t, conn: conn}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for _, want := range []string{"0{", "40{", `42["` + ready + `"]`} {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("waiting for %q: %w", want, err)
		}
		if !strings.HasPrefix(string(msg), want) {
			return nil, fmt.Errorf("got %q, want %q...", msg, want)
		}
		if want == "0{" {
			if err := conn.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// TestHandlerClosesConnectRace: a client that sends its CONNECT as soon as
// it has the open packet is always connected through Handler.
func TestHandlerClosesConnectRace(t *testing.T) {
	s := startServer(t, true, nil)
	for i := 0; i < 200; i++ {
		c, err := rawConnect(t, s.url, "ready")
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		_ = c.conn.Close()
	}
}

func (c *rawClient) send(msg string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next text message, answering pings on the way.
func (c *rawClient) next() string {
	c.t.Helper()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		mt, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read after %d messages: %v", c.count, err)
		}
		if mt == websocket.TextMessage && string(msg) == "2" {
			c.send("3")
			continue
		}
		c.count++
		return string(msg)
	}
}

func (c *rawClient) expectPrefix(prefix string) {
	c.t.Helper()
	if got := c.next(); !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("got %q, want %q...", got, prefix)
	}
}

// TestBurstOfBroadcastsArrivesWhole: back-to-back broadcasts through
// socket.io's in-memory adapter carry pre-encoded frames; engine.io
// v2.5.0's own transport drops what is queued behind such a frame
// (zishang520/socket.io#101). This one writes every frame, in order; through
// Handler, what queued while a write was pending goes out in a few write(2)
// calls instead of one per frame.
func TestBurstOfBroadcastsArrivesWhole(t *testing.T) {
	for _, wrap := range []bool{true, false} {
		t.Run(fmt.Sprintf("handler=%v", wrap), func(t *testing.T) {
			s := startServer(t, wrap, nil)
			const clients, n = 3, 500
			var cs []*rawClient
			for i := 0; i < clients; i++ {
				cs = append(cs, rawDial(t, s))
			}
			before := s.writes.Load()
			// Hold the writes (as a slow network would) so that the
			// broadcasts queue behind the first one.
			s.gate.hold()
			for i := 0; i < n; i++ {
				s.io.To("r").Emit("tick", i)
			}
			s.gate.release()
			for ci, c := range cs {
				for i := 0; i < n; i++ {
					if got, want := c.next(), fmt.Sprintf(`42["tick",%d]`, i); got != want {
						t.Fatalf("client %d frame %d: got %q, want %q", ci, i, got, want)
					}
				}
			}
			writes := s.writes.Load() - before
			t.Logf("%d deliveries, %d write(2) calls", clients*n, writes)
			// Per client: the first frame, then the queued 499 (~10 KiB).
			if wrap && writes > clients*4 {
				t.Fatalf("%d writes for %d deliveries: batches were not coalesced", writes, clients*n)
			}
			if !wrap && writes < clients*n {
				t.Fatalf("%d writes for %d deliveries without Handler: expected one per frame", writes, clients*n)
			}
		})
	}
}

// TestPayloadsAndDirections covers the other encoding paths: acks in both
// directions, binary attachments, large (fragmented) text, and a
// long-polling client that upgrades to WebSocket (the upgrade probe).
func TestPayloadsAndDirections(t *testing.T) {
	s := startServer(t, true, nil)
	big := string(bytes.Repeat([]byte("x"), 100<<10))
	check := func(t *testing.T, c *siotest.Client) {
		got := c.Call("echo", "hi", 42.0, big)
		if len(got) != 3 || got[0] != "hi" || got[1] != 42.0 || got[2] != big {
			t.Fatalf("echo: %d values", len(got))
		}
		bin := c.Call("echo", []byte{0, 1, 2, 255})
		if b, ok := bin[0].(interface{ Bytes() []byte }); !ok || !bytes.Equal(b.Bytes(), []byte{0, 1, 2, 255}) {
			t.Fatalf("binary echo: %T %#v", bin[0], bin)
		}
	}
	t.Run("websocket", func(t *testing.T) { check(t, dial(t, s)) })
	t.Run("polling-upgrade", func(t *testing.T) {
		c := dialWith(t, s.url, "ready", func(o *client.Options) {
			o.SetTransports(types.NewSet(client.Polling, client.WebSocket))
			o.SetUpgrade(true)
		})
		siotest.Eventually(t, "upgrade to websocket", func() bool {
			return c.S.Io().Engine().Transport().Name() == "websocket"
		})
		check(t, c)
	})
}

// TestHeartbeatAndClose: engine.io pings and the client's pongs flow over
// the transport, and a closing server or client ends the other side.
func TestHeartbeatAndClose(t *testing.T) {
	s := startServer(t, true, func(o *socket.ServerOptions) {
		o.SetPingInterval(50 * time.Millisecond)
		o.SetPingTimeout(200 * time.Millisecond)
	})
	disconnected := make(chan string, 16)
	s.io.On("connection", func(args ...any) {
		sk := args[0].(*socket.Socket)
		sk.Once("disconnect", func(...any) { disconnected <- string(sk.Id()) })
	})
	c := dial(t, s)
	time.Sleep(600 * time.Millisecond) // several ping intervals
	if !c.S.Connected() {
		t.Fatal("client lost its connection: pongs did not reach the server")
	}
	if got := c.Call("echo", "still"); got[0] != "still" {
		t.Fatalf("echo after heartbeats: %v", got)
	}

	id := c.ID()
	c.S.Disconnect()
	timeout := time.After(5 * time.Second)
	// Other ids: sockets of abandoned connection attempts (see siotest.Dial).
	for got := ""; got != id; {
		select {
		case got = <-disconnected:
		case <-timeout:
			t.Fatal("server did not see the client's disconnect")
		}
	}

	c2 := dial(t, s)
	gone := make(chan struct{})
	c2.S.Once("disconnect", func(...any) { close(gone) })
	s.io.DisconnectSockets(true)
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("client did not see the server's close")
	}
}

func TestInstalled(t *testing.T) {
	if !wstransport.Installed() {
		t.Fatal("Installed() = false after Install()")
	}
	wstransport.Install() // idempotent
	if !wstransport.Installed() {
		t.Fatal("Installed() = false after a second Install()")
	}
}

// TestPeerGoneMidBurst: a client that vanishes while a large burst is being
// written (its socket closed, unread data in flight) fails the send, the
// server disconnects it, and nothing is left behind (the cleanup checks for
// leaked goroutines).
func TestPeerGoneMidBurst(t *testing.T) {
	s := startServer(t, true, nil)
	gone := make(chan struct{})
	s.io.On("connection", func(args ...any) {
		args[0].(*socket.Socket).Once("disconnect", func(...any) { close(gone) })
	})
	c := rawDial(t, s)
	pad := strings.Repeat("x", 10<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			s.io.To("r").Emit("tick", i, pad)
		}
	}()
	c.next() // the burst has started
	_ = c.conn.NetConn().Close()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not notice the peer was gone")
	}
	<-done
}

// TestCompressedBurst: with permessage-deflate negotiated, compressed frames
// go through the same batching and arrive whole and in order.
func TestCompressedBurst(t *testing.T) {
	s := startServer(t, true, func(o *socket.ServerOptions) {
		o.SetPerMessageDeflate(&types.PerMessageDeflate{Threshold: 0})
	})
	d := &websocket.Dialer{EnableCompression: true}
	var c *rawClient
	for attempt := 0; c == nil; attempt++ {
		var err error
		if c, err = rawConnectWith(t, d, s.url, "ready"); err != nil && attempt == 3 {
			t.Fatal(err)
		}
	}
	c.send(`420["join","r"]`)
	c.expectPrefix(`430["ok"]`)
	pad := strings.Repeat("abc", 1000)
	const n = 200
	before := s.bytes.Load()
	for i := 0; i < n; i++ {
		s.io.To("r").Compress(true).Emit("tick", i, pad)
	}
	for i := 0; i < n; i++ {
		if got, want := c.next(), fmt.Sprintf(`42["tick",%d,"%s"]`, i, pad); got != want {
			t.Fatalf("frame %d: got %.40q..., want %.40q...", i, got, want)
		}
	}
	if sent := s.bytes.Load() - before; sent > int64(n*len(pad)/4) {
		t.Fatalf("%d bytes on the wire for %d x %d bytes of text: not compressed", sent, n, len(pad))
	}
}

// TestTLSBurst: behind TLS terminated by net/http, the hijacked connection
// is the tls.Conn; batches go through it whole and in order.
func TestTLSBurst(t *testing.T) {
	io := socket.NewServer(nil, nil)
	io.On("connection", func(args ...any) {
		sk := args[0].(*socket.Socket)
		sk.On("join", func(a ...any) {
			sk.Join(socket.Room(a[0].(string)))
			a[len(a)-1].(socket.Ack)([]any{"ok"}, nil)
		})
		sk.Emit("ready")
	})
	ts := httptest.NewTLSServer(wstransport.Handler(io.ServeHandler(nil)))
	t.Cleanup(func() {
		done := make(chan struct{})
		io.Close(func(error) { close(done) })
		<-done
		ts.Close()
		siotest.AssertNoGoroutines(t, "sioredis/wstransport.")
	})
	d := &websocket.Dialer{TLSClientConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig}
	var c *rawClient
	for attempt := 0; c == nil; attempt++ {
		var err error
		if c, err = rawConnectWith(t, d, "wss"+strings.TrimPrefix(ts.URL, "https"), "ready"); err != nil && attempt == 3 {
			t.Fatal(err)
		}
	}
	c.send(`420["join","r"]`)
	c.expectPrefix(`430["ok"]`)
	const n = 300
	for i := 0; i < n; i++ {
		io.To("r").Emit("tick", i)
	}
	for i := 0; i < n; i++ {
		if got, want := c.next(), fmt.Sprintf(`42["tick",%d]`, i); got != want {
			t.Fatalf("frame %d: got %q, want %q", i, got, want)
		}
	}
}

// TestFrameLengths: messages whose frames sit at each length encoding's
// edges (7-bit, 16-bit, 64-bit) reach a gorilla/websocket client intact,
// alone and batched, through the framing the transport does itself.
func TestFrameLengths(t *testing.T) {
	s := startServer(t, true, nil)
	c := rawDial(t, s)
	// A frame carries `42["m","` + pad + `"]`: 9 bytes around pad.
	var sizes []int
	for _, edge := range []int{125, 0xffff} {
		for d := -3; d <= 3; d++ {
			sizes = append(sizes, edge-9+d)
		}
	}
	sizes = append(sizes, 0, 1<<20)
	for _, n := range sizes {
		pad := strings.Repeat("x", n)
		s.io.To("r").Emit("m", pad)
		if got, want := c.next(), `42["m","`+pad+`"]`; got != want {
			t.Fatalf("pad %d: got %d bytes, want %d", n, len(got), len(want))
		}
	}
	// The same sizes back to back: one batch, several frames per write.
	for _, n := range sizes {
		s.io.To("r").Emit("m", strings.Repeat("y", n))
	}
	for _, n := range sizes {
		if got, want := c.next(), `42["m","`+strings.Repeat("y", n)+`"]`; got != want {
			t.Fatalf("batched pad %d: got %d bytes, want %d", n, len(got), len(want))
		}
	}
}
