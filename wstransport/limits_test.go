package wstransport_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sioredis/sioredis/wstransport"
	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io/v2/socket"
)

// withOptions installs o for the connections the test makes.
func withOptions(t *testing.T, o wstransport.Options) {
	t.Helper()
	wstransport.InstallWith(o)
	t.Cleanup(func() { wstransport.InstallWith(wstransport.Options{}) })
}

// nonReader connects a raw client that joins room "r" and then never reads:
// its small receive buffer fills and the server's writes to it block.
// engine.io's default heartbeat (25 s + 20 s) outlasts the test, as blind
// pongs would.
func nonReader(t *testing.T, s *server) *rawClient {
	t.Helper()
	d := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
		}
		return c, err
	}}
	for attempt := 0; ; attempt++ {
		c, err := rawConnectWith(t, d, s.url, "ready")
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

// disconnects reports the reason of every server-side disconnect.
func disconnects(s *server) <-chan string {
	ch := make(chan string, 64)
	s.io.On("connection", func(args ...any) {
		args[0].(*socket.Socket).Once("disconnect", func(a ...any) { ch <- fmt.Sprint(a[0]) })
	})
	return ch
}

// heapAfterGC is the live heap.
func heapAfterGC() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// floodPast sends n broadcasts of 16 KiB to room "r" and checks that the
// reading client gets all of them, in order. It sends them in steps of
// 512 KiB that the reading client reads before the next: only a client
// that does not read falls behind.
func floodPast(t *testing.T, s *server, reader *rawClient, n int) {
	t.Helper()
	const step = 32
	pad := strings.Repeat("x", 16<<10)
	for i := 0; i < n; i += step {
		for j := i; j < i+step; j++ {
			s.io.To("r").Emit("tick", j, pad)
		}
		for j := i; j < i+step; j++ {
			if got, want := reader.next(), fmt.Sprintf(`42["tick",%d,"%s"]`, j, pad); got != want {
				t.Fatalf("reading client, frame %d: got %.30q..., want %.30q...", j, got, want)
			}
		}
	}
}

// expectDisconnect waits for one server-side disconnect.
func expectDisconnect(t *testing.T, ch <-chan string, within time.Duration) string {
	t.Helper()
	select {
	case reason := <-ch:
		return reason
	case <-time.After(within):
		t.Fatalf("the client that does not read was not disconnected within %v", within)
		return ""
	}
}

// TestNonReaderClosedAtQueueCap: a client that stops reading while the
// server broadcasts 64 MiB is closed once MaxQueuedBytes wait for it; the
// server does not keep the broadcasts for it, and a client that reads gets
// every one.
func TestNonReaderClosedAtQueueCap(t *testing.T) {
	withOptions(t, wstransport.Options{MaxQueuedBytes: 1 << 20, WriteTimeout: time.Minute})
	s := startServer(t, true, nil)
	gone := disconnects(s)
	reader := rawDial(t, s)
	nonReader(t, s)
	before := wstransport.ReadStats()
	heap := heapAfterGC()

	floodPast(t, s, reader, 4000)
	grown := heapAfterGC() - heap
	t.Logf("heap grew by %d KiB after 4000 x 16 KiB", grown>>10)
	if grown > 24<<20 {
		t.Fatalf("the heap grew by %d MiB: what was queued for the client that does not read is kept", grown>>20)
	}
	if reason := expectDisconnect(t, gone, 10*time.Second); reason != "transport error" {
		t.Fatalf("disconnect reason %q", reason)
	}
	if got := wstransport.ReadStats().QueueOverflows - before.QueueOverflows; got != 1 {
		t.Fatalf("QueueOverflows moved by %d, want 1", got)
	}
	select {
	case reason := <-gone:
		t.Fatalf("another client was disconnected: %s", reason)
	default:
	}
	if got := reader.conn.WriteMessage(websocket.TextMessage, []byte(`421["echo","still"]`)); got != nil {
		t.Fatal(got)
	}
	reader.expectPrefix(`431["still"]`)
}

// TestNonReaderClosedAtWriteTimeout: with no queue cap, a client that does
// not read is closed once a write to it makes no progress for WriteTimeout.
func TestNonReaderClosedAtWriteTimeout(t *testing.T) {
	const timeout = time.Second
	withOptions(t, wstransport.Options{MaxQueuedBytes: -1, WriteTimeout: timeout})
	s := startServer(t, true, nil)
	gone := disconnects(s)
	reader := rawDial(t, s)
	nonReader(t, s)
	before := wstransport.ReadStats()

	start := time.Now()
	floodPast(t, s, reader, 1000)
	// The flood fills the kernel's buffers at once; the write blocks from
	// then on. Generous: the timeout plus slack for a loaded machine.
	if reason := expectDisconnect(t, gone, 2*timeout+5*time.Second); reason != "transport error" {
		t.Fatalf("disconnect reason %q", reason)
	}
	t.Logf("closed %v after the flood started", time.Since(start).Round(time.Millisecond))
	if got := wstransport.ReadStats().WriteTimeouts - before.WriteTimeouts; got != 1 {
		t.Fatalf("WriteTimeouts moved by %d, want 1", got)
	}
}

// bombServer is a server whose clients negotiate permessage-deflate, and
// one such client; gone gets the server-side disconnects.
func bombServer(t *testing.T, maxBuffer int64) (c *websocket.Conn, gone <-chan string) {
	t.Helper()
	s := startServer(t, true, func(o *socket.ServerOptions) {
		o.SetPerMessageDeflate(&types.PerMessageDeflate{Threshold: 0})
		if maxBuffer > 0 {
			o.SetMaxHttpBufferSize(maxBuffer)
		}
	})
	gone = disconnects(s)
	d := &websocket.Dialer{EnableCompression: true}
	for attempt := 0; ; attempt++ {
		c, err := rawConnectWith(t, d, s.url, "ready")
		if err == nil {
			c.conn.EnableWriteCompression(true)
			if err := c.conn.SetCompressionLevel(9); err != nil {
				t.Fatal(err)
			}
			return c.conn, gone
		}
		if attempt == 3 {
			t.Fatal(err)
		}
	}
}

// sendCompressed streams prefix + n zeros + `"]` as one compressed
// message, never holding it whole. The server may close the connection
// before the end: the caller decides whether an error is one.
func sendCompressed(c *websocket.Conn, prefix string, n int) error {
	w, err := c.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	chunk := []byte(strings.Repeat("0", 64<<10))
	_, err = w.Write([]byte(prefix))
	for sent := 0; sent < n && err == nil; sent += len(chunk) {
		_, err = w.Write(chunk[:min(len(chunk), n-sent)])
	}
	if err == nil {
		_, err = w.Write([]byte(`"]`))
	}
	if err == nil {
		err = w.Close()
	}
	return err
}

// TestDecompressionBombClosed: 50 MB of zeros compress to about 50 KB,
// well within the read limit gorilla/websocket applies to the wire bytes;
// the transport stops inflating at the server's MaxHttpBufferSize and
// closes the connection (1009, as for a message over the read limit).
func TestDecompressionBombClosed(t *testing.T) {
	c, gone := bombServer(t, 0)
	before := wstransport.ReadStats()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)

	_ = sendCompressed(c, `42["bomb","`, 50e6) // refused before its end
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var err error
	for err == nil {
		_, _, err = c.ReadMessage()
	}
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("the connection ended with %v, want close 1009", err)
	}
	runtime.ReadMemStats(&m1)
	allocated := int64(m1.TotalAlloc - m0.TotalAlloc)
	t.Logf("%d KiB allocated while receiving the bomb", allocated>>10)
	if allocated > 40<<20 {
		t.Fatalf("%d MiB allocated for a message over the 1 MB limit: it was inflated", allocated>>20)
	}
	expectDisconnect(t, gone, 5*time.Second)
	if got := wstransport.ReadStats().MessagesTooBig - before.MessagesTooBig; got != 1 {
		t.Fatalf("MessagesTooBig moved by %d, want 1", got)
	}
}

// TestReadLimitFollowsServer: the limit on inflated messages is the
// server's MaxHttpBufferSize, not engine.io's default: a compressed message
// within a raised limit gets through, one past it is refused.
func TestReadLimitFollowsServer(t *testing.T) {
	c, _ := bombServer(t, 3e6)
	if err := sendCompressed(c, `421["echo","`, 2e6); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := `431["` + strings.Repeat("0", 2e6) + `"]`; string(msg) != want {
		t.Fatalf("echo of %d bytes, want %d", len(msg), len(want))
	}
	_ = sendCompressed(c, `42["bomb","`, 3e6)
	for err == nil {
		_, _, err = c.ReadMessage()
	}
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("the connection ended with %v, want close 1009", err)
	}
}
