package interop_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/engine.io/v2/types"

	"github.com/sioredis/sioredis/internal/nodeproc"
	"github.com/sioredis/sioredis/internal/siotest"
)

// Bounded waits used throughout the suite.
const (
	waitEvent = 5 * time.Second  // one expected event / answer
	waitCall  = 10 * time.Second // one command to a Node process
	quiet     = 150 * time.Millisecond
)

// nodeModules are the packages the scripts in node/ need.
var nodeModules = []string{
	"socket.io", "socket.io-client", "@socket.io/redis-adapter", "@socket.io/redis-emitter", "redis",
}

// requireNode returns the path of the node binary. Without node or without
// interop/node_modules the test is skipped, or fails when CI is set.
func requireNode(t *testing.T) string {
	t.Helper()
	stop := t.Skipf
	if os.Getenv("CI") != "" {
		stop = t.Fatalf
	}
	bin, err := exec.LookPath("node")
	if err != nil {
		stop("interop: node is not on PATH: install Node.js 18 or newer, then run `cd interop && npm ci`")
		return ""
	}
	for _, m := range nodeModules {
		if _, err := os.Stat(filepath.Join("node_modules", filepath.FromSlash(m), "package.json")); err != nil {
			stop("interop: node_modules/%s is missing: run `cd interop && npm ci`", m)
			return ""
		}
	}
	return bin
}

// proc is a Node script of node/ (see internal/nodeproc).
type proc struct{ *nodeproc.Proc }

// startProc starts `node script args...` in interop/ with extra environment
// variables; onLine gets the stdout lines that are not answers. The process
// is stopped (stdin closed, then killed) when the test ends.
func startProc(t *testing.T, bin, name string, env []string, onLine func([]byte), script string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{filepath.Join("node", script)}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return &proc{nodeproc.Start(t, name, cmd, nodeproc.Options{OnLine: onLine})}
}

// tail is the last n bytes of s.
func tail(s string, n int) string { return nodeproc.Tail(s, n) }

// call sends a command (its values as toJS gives them) and waits (bounded)
// for its answer.
func (p *proc) call(t testing.TB, cmd map[string]any) json.RawMessage {
	t.Helper()
	res, err := p.try(cmd)
	if err != nil {
		t.Fatalf("%s %v: %v", p.Name(), cmd["op"], err)
	}
	return res
}

func (p *proc) try(cmd map[string]any) (json.RawMessage, error) {
	return p.Try(toJS(cmd).(map[string]any), waitCall)
}

// toJS turns Go values into what the scripts expect: []byte as {"$bin":hex}.
func toJS(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$bin": hex.EncodeToString(x)}
	case jsDate:
		return map[string]any{"$date": x.UTC().Format(time.RFC3339Nano)}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJS(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toJS(e)
		}
		return out
	}
	return v
}

// fromJS decodes a JSON value from a script: {"$bin":hex} becomes []byte,
// numbers float64.
func fromJS(raw json.RawMessage) any {
	var v any
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Sprintf("<bad json %s>", raw)
	}
	return unbin(v)
}

func unbin(v any) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = unbin(e)
		}
	case map[string]any:
		if h, ok := x["$bin"].(string); ok && len(x) == 1 {
			b, err := hex.DecodeString(h)
			if err == nil {
				return b
			}
		}
		for k, e := range x {
			x[k] = unbin(e)
		}
	}
	return v
}

// norm makes values received by Go comparable with expectations: binary
// buffers become []byte and every number float64 (as from JSON).
func norm(v any) any {
	switch x := v.(type) {
	case types.BufferInterface:
		return bytes.Clone(x.Bytes())
	case []byte:
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = norm(e)
		}
		return out
	case int:
		return float64(x)
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	}
	return v
}

// ---------------------------------------------------------------------------
// Clients

// peer is a socket.io client connected to one of the servers.
type peer interface {
	Name() string
	ID() string
	// Expect waits for one ev event and returns its (normalized) arguments.
	Expect(t testing.TB, ev string) []any
	// Pending returns the ev events already received and not consumed.
	Pending(ev string) [][]any
	// Call emits ev with an ack and returns the ack arguments.
	Call(t testing.TB, ev string, args ...any) []any
}

// inbox records events per name.
type inbox struct {
	mu  sync.Mutex
	got map[string]chan []any
}

func (b *inbox) ch(ev string) chan []any {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.got == nil {
		b.got = map[string]chan []any{}
	}
	c, ok := b.got[ev]
	if !ok {
		c = make(chan []any, 256)
		b.got[ev] = c
	}
	return c
}

func (b *inbox) push(ev string, args []any) {
	select {
	case b.ch(ev) <- args:
	default: // full: the test is failing anyway
	}
}

func (b *inbox) expect(t testing.TB, who, ev string) []any {
	t.Helper()
	select {
	case a := <-b.ch(ev):
		return a
	case <-time.After(waitEvent):
		t.Fatalf("%s: no %q event within %v", who, ev, waitEvent)
		return nil
	}
}

func (b *inbox) pending(ev string) [][]any {
	var out [][]any
	c := b.ch(ev)
	for {
		select {
		case a := <-c:
			out = append(out, a)
		default:
			return out
		}
	}
}

// goPeer is a Go client (socket.io-client-go) from siotest.Dial. Every event
// is recorded; events with an ack are answered as client.js answers them.
type goPeer struct {
	name string
	c    *siotest.Client
	box  inbox
}

func dialGo(t *testing.T, name, baseURL, nsp string, query url.Values) *goPeer {
	t.Helper()
	p := &goPeer{name: name}
	p.c = siotest.Dial(t, baseURL, nsp, query)
	id := p.c.ID()
	p.c.S.OnAny(func(args ...any) {
		if len(args) == 0 {
			return
		}
		ev, _ := args[0].(string)
		rest := args[1:]
		if n := len(rest); n > 0 {
			if ack, ok := rest[n-1].(func([]any, error)); ok {
				rest = rest[:n-1]
				var answer any = "answer-" + id
				if strings.HasPrefix(ev, "askbin") {
					answer = map[string]any{"from": id, "b": []byte{1, 2}}
				}
				defer ack([]any{answer}, nil)
			}
		}
		p.box.push(ev, norm(rest).([]any))
	})
	p.c.S.On("disconnect", func(args ...any) { p.box.push("disconnect", norm(args).([]any)) })
	return p
}

func (p *goPeer) Name() string { return p.name }
func (p *goPeer) ID() string   { return p.c.ID() }
func (p *goPeer) Expect(t testing.TB, ev string) []any {
	t.Helper()
	return p.box.expect(t, p.name, ev)
}
func (p *goPeer) Pending(ev string) [][]any { return p.box.pending(ev) }
func (p *goPeer) Call(t testing.TB, ev string, args ...any) []any {
	t.Helper()
	res := make(chan []any, 1)
	if err := p.c.S.Emit(ev, append(args, func(a []any, err error) { res <- a })...); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-res:
		return norm(a).([]any)
	case <-time.After(waitEvent):
		t.Fatalf("%s: no ack for %q", p.name, ev)
		return nil
	}
}

// nodeClients is one client.js process holding many connections.
type nodeClients struct {
	p     *proc
	mu    sync.Mutex
	boxes map[string]*inbox
}

func startNodeClients(t *testing.T, bin string) *nodeClients {
	nc := &nodeClients{boxes: map[string]*inbox{}}
	nc.p = startProc(t, bin, "client.js", nil, nc.onLine, "client.js")
	return nc
}

func (nc *nodeClients) box(name string) *inbox {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	b, ok := nc.boxes[name]
	if !ok {
		b = &inbox{}
		nc.boxes[name] = b
	}
	return b
}

func (nc *nodeClients) onLine(line []byte) {
	var e struct {
		Client string          `json:"client"`
		Ev     string          `json:"ev"`
		Args   json.RawMessage `json:"args"`
	}
	if json.Unmarshal(line, &e) != nil || e.Client == "" {
		return
	}
	args, _ := fromJS(e.Args).([]any)
	nc.box(e.Client).push(e.Ev, args)
}

// nodePeer is one socket.io-client (JS) connection of a client.js process.
type nodePeer struct {
	nc   *nodeClients
	name string
	id   string
}

func (nc *nodeClients) dial(t *testing.T, name, baseURL, nsp string, query map[string]any, auth map[string]any) *nodePeer {
	t.Helper()
	res := nc.p.call(t, map[string]any{"op": "connect", "name": name, "url": baseURL, "nsp": nsp, "query": query, "auth": auth})
	var r struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(res, &r); err != nil || r.SID == "" {
		t.Fatalf("connect %s: %s", name, res)
	}
	nc.box(name) // create before events arrive
	return &nodePeer{nc: nc, name: name, id: r.SID}
}

// Close disconnects the client.
func (p *nodePeer) Close(t testing.TB) {
	p.nc.p.call(t, map[string]any{"op": "close", "name": p.name})
}

// Close disconnects the client.
func (p *goPeer) Close(t testing.TB) { p.c.S.Disconnect() }

func (p *nodePeer) Name() string { return p.name }
func (p *nodePeer) ID() string   { return p.id }
func (p *nodePeer) Expect(t testing.TB, ev string) []any {
	t.Helper()
	return p.nc.box(p.name).expect(t, p.name, ev)
}
func (p *nodePeer) Pending(ev string) [][]any { return p.nc.box(p.name).pending(ev) }
func (p *nodePeer) Call(t testing.TB, ev string, args ...any) []any {
	t.Helper()
	res := p.nc.p.call(t, map[string]any{"op": "emit", "name": p.name, "ev": ev, "args": args, "ack": true})
	return []any{fromJS(res)}
}

// ---------------------------------------------------------------------------
// Node server

type sseEvent struct {
	Nsp  string
	Ev   string
	Args []any
}

// nodeServer is one server.js process.
type nodeServer struct {
	p    *proc
	URL  string
	UIDs map[string]string
	sse  chan sseEvent
}

func startNodeServer(t *testing.T, bin, name string, env ...string) *nodeServer {
	t.Helper()
	s := &nodeServer{sse: make(chan sseEvent, 64)}
	ready := make(chan []byte, 1)
	onLine := func(line []byte) {
		var e struct {
			Ready bool            `json:"ready"`
			Event string          `json:"event"`
			Nsp   string          `json:"nsp"`
			Ev    string          `json:"ev"`
			Args  json.RawMessage `json:"args"`
		}
		if json.Unmarshal(line, &e) != nil {
			return
		}
		switch {
		case e.Ready:
			select {
			case ready <- line:
			default:
			}
		case e.Event == "sse":
			args, _ := fromJS(e.Args).([]any)
			select {
			case s.sse <- sseEvent{e.Nsp, e.Ev, args}:
			default:
			}
		}
	}
	s.p = startProc(t, bin, name, append([]string{"SIO_NAME=" + name}, env...), onLine, "server.js")
	select {
	case line := <-ready:
		var r struct {
			Port int               `json:"port"`
			UIDs map[string]string `json:"uids"`
		}
		_ = json.Unmarshal(line, &r)
		s.URL = fmt.Sprintf("http://127.0.0.1:%d", r.Port)
		s.UIDs = r.UIDs
	case <-s.p.Exited():
		t.Fatalf("%s exited before it was ready:\n%s", name, tail(s.p.Stderr(), 3000))
	case <-time.After(20 * time.Second):
		t.Fatalf("%s not ready within 20s:\n%s", name, tail(s.p.Stderr(), 3000))
	}
	return s
}

func (s *nodeServer) call(t testing.TB, op string, params map[string]any) any {
	t.Helper()
	c := map[string]any{"op": op}
	for k, v := range params {
		c[k] = v
	}
	return fromJS(s.p.call(t, c))
}

// expectSSE waits for a server-side emit received by the Node server.
func (s *nodeServer) expectSSE(t testing.TB) sseEvent {
	t.Helper()
	select {
	case e := <-s.sse:
		return e
	case <-time.After(waitEvent):
		t.Fatalf("node server: no server-side emit within %v", waitEvent)
		return sseEvent{}
	}
}

func (s *nodeServer) noSSE(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case e := <-s.sse:
		t.Fatalf("node server: unexpected server-side emit %+v", e)
	case <-time.After(d):
	}
}

// runEmitter runs node/emitter.js with the given commands.
func runEmitter(t testing.TB, bin, redisURL string, cmds ...map[string]any) {
	t.Helper()
	for i, c := range cmds {
		c["redis"] = redisURL
		if _, ok := c["gapMs"]; !ok && i < len(cmds)-1 {
			// Go servers lose back-to-back broadcasts (see TestClassic/Burst):
			// pace the commands so that other scenarios do not depend on it.
			c["gapMs"] = 40
		}
	}
	b, err := json.Marshal(toJS(anySlice(cmds)))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, filepath.Join("node", "emitter.js"), string(b))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(out.String(), "done") {
			t.Fatalf("emitter.js: %v\n%s%s", err, out.String(), stderr.String())
		}
	case <-time.After(waitCall):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("emitter.js did not finish within %v", waitCall)
	}
}

func anySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}

// ---------------------------------------------------------------------------
// Assertions

// expectOnce checks that exactly the peers in want receive ev once, with
// args, and that the others receive nothing, within a short quiet period.
func expectOnce(t *testing.T, all []peer, want []peer, ev string, args []any) {
	t.Helper()
	wanted := map[peer]bool{}
	for _, p := range want {
		wanted[p] = true
		got := p.Expect(t, ev)
		if !reflect.DeepEqual(got, args) {
			t.Errorf("%s got %s%s, want %s", p.Name(), ev, show(got), show(args))
		}
	}
	time.Sleep(quiet)
	for _, p := range all {
		if extra := p.Pending(ev); len(extra) > 0 {
			if wanted[p] {
				t.Errorf("%s got %s %d more time(s): %s", p.Name(), ev, len(extra), show(extra))
			} else {
				t.Errorf("%s should not get %s, got %s", p.Name(), ev, show(extra))
			}
		}
	}
}

func show(v any) string {
	b, err := json.Marshal(toJS(v))
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitEvent)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
