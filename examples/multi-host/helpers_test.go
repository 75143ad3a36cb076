package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zishang520/engine.io/v2/types"
	client "github.com/zishang520/socket.io-client-go/socket"

	"github.com/sioredis/sioredis/examples/multi-host/cli"
	"github.com/sioredis/sioredis/internal/siotest"
)

// childEnv makes the test binary act as the multi-host program: "all"
// starts its hosts and cron jobs by running this binary again, and the
// tests run the cron job as a process of its own.
const childEnv = "MULTIHOST_TEST_CHILD"

// childEnviron is the environment of such a child process. Under -race, a
// process sleeps 1 s at exit unless told otherwise.
func childEnviron() []string {
	return []string{childEnv + "=1", "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")}
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// requireTool returns the path of the first of names found on PATH. If none
// is, the test is skipped, or fails when the CI environment variable is set
// (CI must install the Debian package apt).
func requireTool(t *testing.T, apt string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s is not installed: apt-get install -y %s", names[0], apt)
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set, so this test must run: %s", msg)
	}
	t.Skip(msg + " (the test fails instead of skipping when CI is set)")
	return ""
}

// runCron runs the cron command as a short-lived process of its own, as a
// crontab would, and waits for it to exit.
func runCron(t *testing.T, redisURL, key, message string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "cron", "-redis", redisURL, "-key", key, "-message", message, "-from", "test-cron")
	cmd.Env = append(os.Environ(), childEnviron()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cron: %v\n%s", err, out)
	}
}

func randomKey(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// logBuffer collects log output and prints it when the test fails. It stays
// safe to write to after the test ended.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogBuffer(t *testing.T, what string) *logBuffer {
	l := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output:\n%s", what, l.String())
		}
	})
	return l
}

// eventClient is what the tests need of a socket.io client.
type eventClient interface {
	Expect(ev string) []any
	Call(ev string, args ...any) []any
}

// dialPolling connects a client restricted to HTTP long-polling, the
// transport that needs sticky sessions (every poll and post of its session
// must reach the same host), sending the given cookie with every request as
// a browser that loaded the page would.
func dialPolling(t *testing.T, baseURL string, cookie *http.Cookie, name string, evs ...string) *siotest.Client {
	t.Helper()
	return siotest.DialWith(t, baseURL, "/", func(opts *client.Options) {
		opts.SetTransports(types.NewSet(client.Polling))
		opts.SetUpgrade(false)
		opts.SetQuery(url.Values{"name": {name}})
		if cookie != nil {
			opts.SetExtraHeaders(http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}})
		}
	}, evs...)
}

// object returns the first argument of an event as a JSON object.
func object(t *testing.T, args []any) map[string]any {
	t.Helper()
	if len(args) == 0 {
		t.Fatal("event without arguments")
	}
	m, ok := args[0].(map[string]any)
	if !ok {
		t.Fatalf("event argument is %T (%v), not an object", args[0], args[0])
	}
	return m
}

// welcomeHost waits for a client's welcome event and returns its host.
func welcomeHost(t *testing.T, c eventClient) string {
	t.Helper()
	h, _ := object(t, c.Expect("welcome"))["host"].(string)
	if h == "" {
		t.Fatal("welcome without host")
	}
	return h
}

// expectChat waits for the next chat message of c and checks it.
func expectChat(t *testing.T, c eventClient, text, host string) {
	t.Helper()
	m := object(t, c.Expect("chat"))
	if m["text"] != text || m["host"] != host {
		t.Fatalf("chat message %v, want text %q from %s", m, text, host)
	}
}

// expectAnnouncement waits until c receives the announcement with text
// (earlier ones, e.g. from a periodic cron job, are skipped).
func expectAnnouncement(t *testing.T, c eventClient, text string) {
	t.Helper()
	for i := 0; i < 20; i++ {
		m := object(t, c.Expect("announcement"))
		if text == "" || m["text"] == text {
			return
		}
	}
	t.Fatalf("announcement %q did not arrive", text)
}

// expectOnline asks c for the cluster-wide presence until it reports online
// users on servers hosts.
func expectOnline(t *testing.T, c eventClient, online, servers int) map[string]any {
	t.Helper()
	var last map[string]any
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		last = object(t, c.Call("presence"))
		if num(last["online"]) == online && num(last["servers"]) == servers {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("presence %v, want %d online on %d servers", last, online, servers)
	return nil
}

func num(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	case int64:
		return int(n)
	}
	return -1
}
