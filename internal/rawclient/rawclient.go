// Package rawclient is a socket.io client for tests that speaks the
// Engine.IO v4 / Socket.IO v5 frames over a WebSocket itself: no socket.io
// library, so the tests of every binding (socket.io v2 and v3 servers alike)
// can record exactly what a server wrote, in order.
package rawclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sioredis/sioredis/internal/exactlyonce"
)

// ReadyEvent is the event the test servers of the kits emit to a socket
// once its connection handler ran, so that the client's first events cannot
// race the handler's listeners.
const ReadyEvent = "siotest:ready"

// Frame is one EVENT packet as a Client read it off the wire.
type Frame struct {
	// Seq is the frame's position among all WebSocket messages the client
	// read (0 is the Engine.IO open packet).
	Seq int
	// Event is the event name, Args its arguments as JSON decoded them.
	Event string
	Args  []any
	// Raw is the whole text frame.
	Raw string
}

// Client is a minimal Engine.IO v4 / Socket.IO v5 client over a gorilla
// WebSocket: it reads frames on one goroutine, in order, and records every
// EVENT ("42...") of its namespace as it came. Unlike socket.io-client-go,
// which hands each packet to a goroutine of its own, it neither reorders nor
// can repeat an event, so what it records is what the server sent. It
// answers pings, and acks only the events given to Answer; binary events are
// recorded with their placeholders and their attachments are skipped.
type Client struct {
	t    testing.TB
	conn *websocket.Conn
	nsp  string
	// ID is the socket id the server gave in its CONNECT answer.
	ID string
	// PID is the private session id of connection state recovery the
	// server gave with it ("" when recovery is off).
	PID string

	wmu    sync.Mutex // serialises writes
	mu     sync.Mutex
	frames []Frame
	acks   map[int]chan []any
	answer map[string]func(args []any) []any
	nextID int
	seq    int
	notify chan struct{} // closed and replaced on every recorded frame
	done   chan struct{}
	err    error
}

// Dial connects a Client to the socket.io server at baseURL, namespace
// nsp, and waits for the server's CONNECT answer. The socket.io v2.5.0
// server can lose a CONNECT sent right after the handshake: each attempt is
// bounded and retried on a fresh connection. With wait set, it also waits
// for the test server's ReadyEvent (sent once the connection handler ran;
// use it with a test node's URL). The client closes when the test ends.
func Dial(t testing.TB, baseURL, nsp string, query url.Values, wait bool) *Client {
	t.Helper()
	return DialWith(t, baseURL, nsp, query, Options{}, wait)
}

// Options are the extras of DialWith and DialOnce.
type Options struct {
	// Auth is the CONNECT payload: {"pid": ..., "offset": ...} asks for
	// connection state recovery.
	Auth map[string]any
	// Header is sent with the WebSocket upgrade (a balancer's cookie).
	Header http.Header
	// Connects is how many CONNECT packets DialOnce sends back to back
	// (0 means 1): more is a fault of some clients, for tests of the kits.
	Connects int
	// Timeout bounds the handshake (0 means 5 s): a restore that waits
	// for its server's stream reader can take seconds on a loaded machine.
	Timeout time.Duration
}

// DialWith is Dial with a CONNECT payload and upgrade headers.
func DialWith(t testing.TB, baseURL, nsp string, query url.Values, o Options, wait bool) *Client {
	t.Helper()
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		c, err := DialOnce(t, baseURL, nsp, query, o, wait)
		if err == nil {
			t.Cleanup(c.Close)
			return c
		}
		last = err
	}
	t.Fatalf("raw dial %s%s: %v", baseURL, nsp, last)
	return nil
}

// DialOnce makes one attempt of DialWith and returns its error; the caller
// closes the client.
func DialOnce(t testing.TB, baseURL, nsp string, query url.Values, o Options, wait bool) (*Client, error) {
	connects := max(o.Connects, 1)
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("EIO", "4")
	q.Set("transport", "websocket")
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?" + q.Encode()
	conn, _, err := websocket.DefaultDialer.Dial(u, o.Header)
	if err != nil {
		return nil, err
	}
	c := &Client{t: t, conn: conn, nsp: nsp, acks: map[int]chan []any{}, answer: map[string]func([]any) []any{}, notify: make(chan struct{}), done: make(chan struct{})}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	_, open, err := conn.ReadMessage()
	if err != nil || !strings.HasPrefix(string(open), "0{") {
		conn.Close()
		return nil, fmt.Errorf("no Engine.IO open packet: %q %v", open, err)
	}
	c.seq = 1
	connect := "40" + c.prefix()
	if o.Auth != nil {
		b, err := json.Marshal(o.Auth)
		if err != nil {
			conn.Close()
			return nil, err
		}
		connect += string(b)
	}
	for i := 0; i < connects; i++ {
		if err := c.write(connect); err != nil {
			conn.Close()
			return nil, err
		}
	}
	// The CONNECT answer: 40{"sid":...} or 40/nsp,{"sid":...}.
	for c.ID == "" {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("no CONNECT answer: %w", err)
		}
		c.seq++
		m := string(msg)
		if m == "2" {
			_ = c.write("3")
			continue
		}
		if rest, ok := strings.CutPrefix(m, "40"+c.prefix()); ok {
			var hs struct {
				SID string `json:"sid"`
				PID string `json:"pid"`
			}
			if json.Unmarshal([]byte(rest), &hs) != nil || hs.SID == "" {
				conn.Close()
				return nil, fmt.Errorf("bad CONNECT answer %q", m)
			}
			c.ID, c.PID = hs.SID, hs.PID
			continue
		}
		if strings.HasPrefix(m, "44"+c.prefix()) {
			conn.Close()
			return nil, fmt.Errorf("connect error %q", m)
		}
		c.record(m) // an event before the answer (not expected)
	}
	_ = conn.SetReadDeadline(time.Time{})
	go c.read()
	if wait {
		if _, err := c.waitEvents(ReadyEvent, 1, time.Second); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// prefix is "" for the main namespace and "/nsp," otherwise.
func (c *Client) prefix() string {
	if c.nsp == "/" || c.nsp == "" {
		return ""
	}
	return c.nsp + ","
}

func (c *Client) write(msg string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

// read is the only reader of the connection.
func (c *Client) read() {
	defer close(c.done)
	for {
		typ, msg, err := c.conn.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		c.seq++
		c.mu.Unlock()
		if typ != websocket.TextMessage {
			continue // a binary attachment
		}
		m := string(msg)
		switch {
		case m == "2":
			_ = c.write("3")
		case strings.HasPrefix(m, "43"+c.prefix()):
			c.ack(strings.TrimPrefix(m, "43"+c.prefix()))
		default:
			c.record(m)
		}
	}
}

// record keeps an EVENT or BINARY_EVENT frame of the namespace.
func (c *Client) record(m string) {
	var body string
	switch {
	case strings.HasPrefix(m, "42"+c.prefix()):
		body = strings.TrimPrefix(m, "42"+c.prefix())
	case strings.HasPrefix(m, "45"):
		// 45<n>-/nsp,[...]: attachments follow as binary frames.
		i := strings.Index(m, "-")
		if i < 0 || !strings.HasPrefix(m[i+1:], c.prefix()) {
			return
		}
		body = strings.TrimPrefix(m[i+1:], c.prefix())
	default:
		return
	}
	rest := strings.TrimLeft(body, "0123456789")
	ackID := body[:len(body)-len(rest)] // the server awaits an ack
	body = rest
	var arr []any
	_ = json.Unmarshal([]byte(body), &arr) // a frame that is not an array is kept with no name
	var name string
	if len(arr) > 0 {
		name, _ = arr[0].(string)
		arr = arr[1:]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if fn := c.answer[name]; fn != nil && ackID != "" {
		a := fn(arr)
		if a == nil {
			a = []any{}
		}
		if b, err := json.Marshal(a); err == nil {
			_ = c.write("43" + c.prefix() + ackID + string(b))
		}
	}
	n := 1
	if exactlyonce.Duplicating() {
		n = 2
	}
	for i := 0; i < n; i++ {
		c.frames = append(c.frames, Frame{Seq: c.seq, Event: name, Args: arr, Raw: m})
	}
	close(c.notify)
	c.notify = make(chan struct{})
}

func (c *Client) ack(body string) {
	i := strings.IndexByte(body, '[')
	if i < 0 {
		return
	}
	id, err := strconv.Atoi(body[:i])
	if err != nil {
		return
	}
	var arr []any
	_ = json.Unmarshal([]byte(body[i:]), &arr)
	c.mu.Lock()
	ch := c.acks[id]
	delete(c.acks, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- arr
	}
}

// Answer makes the client acknowledge every ev event the server sends with
// an ack id, with the arguments fn returns for the event's arguments; the
// event is recorded too.
func (c *Client) Answer(ev string, fn func(args []any) []any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answer[ev] = fn
}

// Emit sends an event without an ack.
func (c *Client) Emit(ev string, args ...any) {
	c.t.Helper()
	b, err := json.Marshal(append([]any{ev}, args...))
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.write("42" + c.prefix() + string(b)); err != nil {
		c.t.Fatal(err)
	}
}

// Call emits an event with an ack id and waits (at most 10 s) for the ack.
func (c *Client) Call(ev string, args ...any) []any {
	c.t.Helper()
	b, err := json.Marshal(append([]any{ev}, args...))
	if err != nil {
		c.t.Fatal(err)
	}
	ch := make(chan []any, 1)
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	c.acks[id] = ch
	c.mu.Unlock()
	if err := c.write("42" + c.prefix() + strconv.Itoa(id) + string(b)); err != nil {
		c.t.Fatal(err)
	}
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		c.t.Fatalf("raw client %s: no ack for %q", c.ID, ev)
		return nil
	}
}

// Frames returns the recorded frames of ev (all events if ev is ""), in
// arrival order.
func (c *Client) Frames(ev string) []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Frame
	for _, f := range c.frames {
		if ev == "" || f.Event == ev {
			out = append(out, f)
		}
	}
	return out
}

// waitEvents waits until at least n ev frames were recorded.
func (c *Client) waitEvents(ev string, n int, within time.Duration) ([]Frame, error) {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		notify := c.notify
		c.mu.Unlock()
		if f := c.Frames(ev); len(f) >= n {
			return f, nil
		}
		select {
		case <-notify:
		case <-c.done:
			return c.Frames(ev), fmt.Errorf("connection closed: %w", c.err)
		case <-deadline.C:
			return c.Frames(ev), fmt.Errorf("%d of %d %q frames", len(c.Frames(ev)), n, ev)
		}
	}
}

// ExpectExactly waits (at most 10 s) for n ev frames, then Quiet, and fails
// the test unless exactly n arrived; it returns them in arrival order.
func (c *Client) ExpectExactly(ev string, n int) []Frame {
	c.t.Helper()
	if _, err := c.waitEvents(ev, n, 10*time.Second); err != nil {
		c.t.Fatalf("raw client %s: %v", c.ID, err)
	}
	time.Sleep(exactlyonce.Quiet)
	got := c.Frames(ev)
	if len(got) != n {
		var raws []string
		for _, f := range got {
			raws = append(raws, fmt.Sprintf("#%d %s", f.Seq, f.Raw))
		}
		c.t.Fatalf("raw client %s: %d %q frames, want exactly %d:\n%s", c.ID, len(got), ev, n, strings.Join(raws, "\n"))
	}
	return got
}

// ExpectNoFrames waits Quiet and fails the test if any ev frame was recorded.
func (c *Client) ExpectNoFrames(ev string) {
	c.t.Helper()
	c.ExpectExactly(ev, 0)
}

// LastOffset is the offset connection state recovery sends back on a
// reconnect: the last argument of the last event, when it is a string (as
// socket.io-client keeps it).
func (c *Client) LastOffset() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.frames) - 1; i >= 0; i-- {
		if a := c.frames[i].Args; len(a) > 0 {
			if s, ok := a[len(a)-1].(string); ok {
				return s
			}
			return ""
		}
	}
	return ""
}

// Drop cuts the connection without the socket.io DISCONNECT packet, as a
// network failure does: the server sees a "transport close" (recoverable).
func (c *Client) Drop() {
	_ = c.conn.Close()
	<-c.done
}

// Close closes the connection; it is safe to call more than once.
func (c *Client) Close() {
	_ = c.write("41" + c.prefix())
	_ = c.conn.Close()
	<-c.done
}
