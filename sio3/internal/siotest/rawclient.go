package siotest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Frame is one EVENT packet as a RawClient read it off the wire.
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

// RawClient is a minimal Engine.IO v4 / Socket.IO v5 client over a gorilla
// WebSocket: it reads frames on one goroutine, in order, and records every
// EVENT ("42...") of its namespace as it came. Unlike socket.io-client-go v1,
// which hands each packet to a goroutine of its own, it neither reorders nor
// can repeat an event, so what it records is what the server sent. It
// answers pings and acks nothing; binary events are recorded with their
// placeholders and their attachments are skipped.
type RawClient struct {
	t    testing.TB
	conn *websocket.Conn
	nsp  string
	// ID is the socket id the server gave in its CONNECT answer.
	ID string

	wmu    sync.Mutex // serialises writes
	mu     sync.Mutex
	frames []Frame
	acks   map[int]chan []any
	nextID int
	seq    int
	notify chan struct{} // closed and replaced on every recorded frame
	done   chan struct{}
	err    error
}

// DialRaw connects a RawClient to the socket.io server at baseURL, namespace
// nsp, and waits for the server's CONNECT answer. Each attempt is bounded
// and retried on a fresh connection. With wait set, it also waits
// for the siotest server's ready event (sent once the connection handler ran;
// use it with a Node's URL). The client closes when the test ends.
func DialRaw(t testing.TB, baseURL, nsp string, query url.Values, wait bool) *RawClient {
	t.Helper()
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		c, err := dialRawOnce(t, baseURL, nsp, query, wait, 1)
		if err == nil {
			t.Cleanup(c.Close)
			return c
		}
		last = err
	}
	t.Fatalf("raw dial %s%s: %v", baseURL, nsp, last)
	return nil
}

// dialRawOnce makes one attempt; connects > 1 sends that many CONNECT
// packets back to back (a fault of some clients, for tests of the kit).
func dialRawOnce(t testing.TB, baseURL, nsp string, query url.Values, wait bool, connects int) (*RawClient, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("EIO", "4")
	q.Set("transport", "websocket")
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?" + q.Encode()
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	c := &RawClient{t: t, conn: conn, nsp: nsp, acks: map[int]chan []any{}, notify: make(chan struct{}), done: make(chan struct{})}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, open, err := conn.ReadMessage()
	if err != nil || !strings.HasPrefix(string(open), "0{") {
		conn.Close()
		return nil, fmt.Errorf("no Engine.IO open packet: %q %v", open, err)
	}
	c.seq = 1
	for i := 0; i < connects; i++ {
		if err := c.write("40" + c.prefix()); err != nil {
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
			}
			if json.Unmarshal([]byte(rest), &hs) != nil || hs.SID == "" {
				conn.Close()
				return nil, fmt.Errorf("bad CONNECT answer %q", m)
			}
			c.ID = hs.SID
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
		if _, err := c.waitEvents(readyEvent, 1, time.Second); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// prefix is "" for the main namespace and "/nsp," otherwise.
func (c *RawClient) prefix() string {
	if c.nsp == "/" || c.nsp == "" {
		return ""
	}
	return c.nsp + ","
}

func (c *RawClient) write(msg string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

// read is the only reader of the connection.
func (c *RawClient) read() {
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
func (c *RawClient) record(m string) {
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
	body = strings.TrimLeft(body, "0123456789") // an ack id
	var arr []any
	_ = json.Unmarshal([]byte(body), &arr) // a frame that is not an array is kept with no name
	var name string
	if len(arr) > 0 {
		name, _ = arr[0].(string)
		arr = arr[1:]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 1
	if injectDuplicates.Load() {
		n = 2
	}
	for i := 0; i < n; i++ {
		c.frames = append(c.frames, Frame{Seq: c.seq, Event: name, Args: arr, Raw: m})
	}
	close(c.notify)
	c.notify = make(chan struct{})
}

func (c *RawClient) ack(body string) {
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

// Emit sends an event without an ack.
func (c *RawClient) Emit(ev string, args ...any) {
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
func (c *RawClient) Call(ev string, args ...any) []any {
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
func (c *RawClient) Frames(ev string) []Frame {
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
func (c *RawClient) waitEvents(ev string, n int, within time.Duration) ([]Frame, error) {
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
func (c *RawClient) ExpectExactly(ev string, n int) []Frame {
	c.t.Helper()
	if _, err := c.waitEvents(ev, n, 10*time.Second); err != nil {
		c.t.Fatalf("raw client %s: %v", c.ID, err)
	}
	time.Sleep(Quiet)
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
func (c *RawClient) ExpectNoFrames(ev string) {
	c.t.Helper()
	c.ExpectExactly(ev, 0)
}

// Close closes the connection; it is safe to call more than once.
func (c *RawClient) Close() {
	_ = c.write("41" + c.prefix())
	_ = c.conn.Close()
	<-c.done
}
