package interop_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bounded waits.
const (
	waitEvent = 5 * time.Second
	waitCall  = 10 * time.Second
)

// repoRoot is the repository root, seen from this package's directory.
var repoRoot = filepath.Join("..", "..")

// nodeDir is the root interop module, which holds the Node scripts and
// their node_modules.
var nodeDir = filepath.Join(repoRoot, "interop")

// skipOrFail skips the test, or fails it when CI is set (where every tool
// must be present).
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// requireNode returns the node binary, or skips (fails under CI) when node
// or the interop packages are missing.
func requireNode(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		skipOrFail(t, "node is not on PATH: install Node.js 20, then run `cd interop && npm ci` at the repository root")
	}
	for _, m := range []string{"socket.io", "@socket.io/redis-adapter", "@socket.io/redis-emitter", "redis"} {
		if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", filepath.FromSlash(m), "package.json")); err != nil {
			skipOrFail(t, "interop/node_modules/%s is missing: run `cd interop && npm ci` at the repository root", m)
		}
	}
	return bin
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// proc is a child process whose stdout is read line by line.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncBuffer
	exited chan struct{}
	lines  chan []byte // stdout lines that are not answers

	wmu     sync.Mutex
	mu      sync.Mutex
	nextID  int
	waiters map[int]chan reply
}

type reply struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *string         `json:"error"`
}

// startProc starts cmd and stops it when the test ends (stdin closed, then
// SIGTERM, then SIGKILL); its stderr is logged if the test failed.
func startProc(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{}),
		lines: make(chan []byte, 256), waiters: map[int]chan reply{}}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go p.read(stdout)
	t.Cleanup(func() {
		_ = p.stdin.Close()
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, tail(p.stderr.String(), 4000))
		}
	})
	return p
}

func (p *proc) read(r io.Reader) {
	defer func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		line, err := br.ReadBytes('\n')
		if line = bytes.TrimSpace(line); len(line) > 0 {
			p.dispatch(line)
		}
		if err != nil {
			return
		}
	}
}

func (p *proc) dispatch(line []byte) {
	var probe struct {
		ID *int `json:"id"`
	}
	if json.Unmarshal(line, &probe) == nil && probe.ID != nil {
		var r reply
		_ = json.Unmarshal(line, &r)
		p.mu.Lock()
		ch := p.waiters[r.ID]
		delete(p.waiters, r.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- r
		}
		return
	}
	select {
	case p.lines <- line:
	default:
	}
}

// waitLine waits for a stdout line for which match holds.
func (p *proc) waitLine(t *testing.T, within time.Duration, match func([]byte) bool) []byte {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case l := <-p.lines:
			if match(l) {
				return l
			}
		case <-p.exited:
			t.Fatalf("%s exited:\n%s", p.name, tail(p.stderr.String(), 3000))
		case <-timer.C:
			t.Fatalf("%s: no expected line within %v; stderr:\n%s", p.name, within, tail(p.stderr.String(), 3000))
		}
	}
}

// call sends a JSON command (Node scripts) and waits for its answer.
func (p *proc) call(t testing.TB, cmd map[string]any) json.RawMessage {
	t.Helper()
	ch := make(chan reply, 1)
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.waiters[id] = ch
	p.mu.Unlock()
	c := map[string]any{"id": id}
	for k, v := range cmd {
		c[k] = v
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	p.wmu.Lock()
	_, err = p.stdin.Write(append(b, '\n'))
	p.wmu.Unlock()
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			t.Fatalf("%s %v: %v", p.name, cmd["op"], errors.New(*r.Error))
		}
		return r.Result
	case <-p.exited:
		t.Fatalf("%s exited; stderr:\n%s", p.name, tail(p.stderr.String(), 2000))
	case <-time.After(waitCall):
		t.Fatalf("%s %v: no answer within %v", p.name, cmd["op"], waitCall)
	}
	return nil
}

// nodeServer is interop/node/server.js: a socket.io 4.8 server with
// @socket.io/redis-adapter 8.3.
type nodeServer struct {
	*proc
	URL string
}

func startNodeServer(t *testing.T, bin string, env ...string) *nodeServer {
	t.Helper()
	cmd := exec.Command(bin, filepath.Join("node", "server.js"))
	cmd.Dir = nodeDir
	cmd.Env = append(append(os.Environ(), "SIO_NAME=node"), env...)
	p := startProc(t, "node server", cmd)
	line := p.waitLine(t, 20*time.Second, func(l []byte) bool { return bytes.Contains(l, []byte(`"ready":true`)) })
	var r struct {
		Port int `json:"port"`
	}
	_ = json.Unmarshal(line, &r)
	return &nodeServer{proc: p, URL: fmt.Sprintf("http://127.0.0.1:%d", r.Port)}
}

// runEmitter runs interop/node/emitter.js with commands.
func runEmitter(t *testing.T, bin string, cmds ...map[string]any) {
	t.Helper()
	b, _ := json.Marshal(cmds)
	cmd := exec.Command(bin, filepath.Join("node", "emitter.js"), string(b))
	cmd.Dir = nodeDir
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(waitCall):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("emitter.js did not finish: %s", out)
	}
	if err != nil || !strings.Contains(string(out), "done") {
		t.Fatalf("emitter.js: %v\n%s", err, out)
	}
}

// freePort returns a TCP port free on 127.0.0.1 at the time of the call.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
