package interop_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/internal/nodeproc"
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

// tail is the last n bytes of s.
func tail(s string, n int) string { return nodeproc.Tail(s, n) }

// proc is a child process (see internal/nodeproc) whose stdout lines that
// are not answers are queued for waitLine.
type proc struct {
	*nodeproc.Proc
	lines chan []byte
}

// startProc starts cmd and stops it when the test ends (stdin closed, then
// SIGINT, then SIGKILL); its stderr is logged if the test failed.
func startProc(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{lines: make(chan []byte, 256)}
	p.Proc = nodeproc.Start(t, name, cmd, nodeproc.Options{Interrupt: true, OnLine: func(line []byte) {
		select {
		case p.lines <- line:
		default:
		}
	}})
	return p
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
		case <-p.Exited():
			t.Fatalf("%s exited:\n%s", p.Name(), tail(p.Stderr(), 3000))
		case <-timer.C:
			t.Fatalf("%s: no expected line within %v; stderr:\n%s", p.Name(), within, tail(p.Stderr(), 3000))
		}
	}
}

// call sends a JSON command (Node scripts) and waits for its answer.
func (p *proc) call(t testing.TB, cmd map[string]any) json.RawMessage {
	t.Helper()
	return p.Call(t, cmd, waitCall)
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
