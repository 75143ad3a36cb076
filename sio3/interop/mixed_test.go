package interop_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// The bench servers (bench/server on socket.io v2.5.0, sio3/bench/server on
// v3.0.6) follow the harness's server contract: PORT, REDIS_URL, NODE_ID,
// SIOREDIS_ADAPTER, "ready" on stdout; events join(room), blast({count,
// room, event}) and fetch({count}), all with an ack. v2 and v3 cannot be
// linked into one binary, so a mixed cluster is a cluster of processes.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// TestMain removes the bench servers built for the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildServers builds both bench servers once per test binary.
func buildServers(t *testing.T) (v2, v3 string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "sio3-mixed-")
		if buildErr != nil {
			return
		}
		root, err := filepath.Abs(repoRoot)
		if err != nil {
			buildErr = err
			return
		}
		build := func(dir, out string, env ...string) error {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, out), "./bench/server")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), env...)
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("build %s: %v\n%s", out, err, b)
			}
			return nil
		}
		// The v2 server is in the root go.work; the v3 one is outside it.
		if buildErr = build(root, "v2server", "GOWORK="+filepath.Join(root, "go.work")); buildErr != nil {
			return
		}
		buildErr = build(filepath.Join(root, "sio3"), "v3server", "GOWORK=off")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "v2server"), filepath.Join(binDir, "v3server")
}

// startBenchServer starts one bench server process and waits for "ready".
func startBenchServer(t *testing.T, bin, id, redisURL, adapter string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "REDIS_URL="+redisURL, "NODE_ID="+id, "SIOREDIS_ADAPTER="+adapter)
	p := startProc(t, id, cmd)
	p.waitLine(t, 30*time.Second, func(l []byte) bool { return bytes.Equal(l, []byte("ready")) })
	return "http://127.0.0.1:" + port
}

// call emits ev with an ack, retrying once: socket.io v2.5.0 runs each
// incoming packet on a goroutine of its own, so an event sent right after
// CONNECT can overtake the handler that registers its listener.
func call(t *testing.T, c *siotest.Client, ev string, args ...any) map[string]any {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		res := make(chan []any, 1)
		if err := c.S.Emit(ev, append(args, socket.Ack(func(a []any, _ error) { res <- a }))...); err != nil {
			t.Fatal(err)
		}
		select {
		case a := <-res:
			if len(a) > 0 {
				if m, ok := a[0].(map[string]any); ok {
					return m
				}
			}
			t.Fatalf("%s: ack %v", ev, a)
		case <-time.After(3 * time.Second):
		}
	}
	t.Fatalf("%s: no ack", ev)
	return nil
}

// TestMixedV2V3 runs a socket.io v2.5.0 server and a v3.0.6 server, both Go
// and both with sioredis, as separate processes on one Redis, in both wire
// formats: each one's broadcasts reach the other's clients exactly once and
// in order, fetchSockets sees the sockets of both, and a third (v3) server
// sees both as members.
func TestMixedV2V3(t *testing.T) {
	v2, v3 := buildServers(t)
	for _, adapter := range []string{"classic", "sharded"} {
		t.Run(adapter, func(t *testing.T) {
			srv := redistest.Start(t)
			admin := srv.Client(t)
			url2 := startBenchServer(t, v2, "v2", srv.URL(), adapter)
			url3 := startBenchServer(t, v3, "v3", srv.URL(), adapter)
			c2 := siotest.Dial(t, url2, "/", nil, "tick")
			c3 := siotest.Dial(t, url3, "/", nil, "tick")
			for _, c := range []*siotest.Client{c2, c3} {
				if r := call(t, c, "join", "mixed"); r["ok"] != true {
					t.Fatalf("join: %v", r)
				}
			}
			if adapter == "sharded" {
				// Dynamic mode: the room's channel is subscribed
				// asynchronously by both servers.
				ch := protocol.RoomChannel(protocol.DefaultPrefix, "/", "mixed")
				siotest.Eventually(t, "both servers on "+ch, func() bool {
					m, err := admin.PubSubShardNumSub(siotest.Ctx(t), ch).Result()
					return err == nil && m[ch] == 2
				})
			}
			const n = 200
			for _, from := range []*siotest.Client{c2, c3} {
				r := call(t, from, "blast", map[string]any{"count": n, "room": "mixed", "event": "tick"})
				if r["emitted"] != float64(n) {
					t.Fatalf("blast: %v", r)
				}
				for _, c := range []*siotest.Client{c2, c3} {
					for i, args := range c.ExpectExactly("tick", n) {
						m, _ := args[0].(map[string]any)
						if m["seq"] != float64(i) {
							t.Fatalf("from %s to %s: message %v arrived when %d was due", from.ID(), c.ID(), m["seq"], i)
						}
					}
				}
			}
			for _, c := range []*siotest.Client{c2, c3} {
				if r := call(t, c, "fetch", map[string]any{"count": 1}); r["ok"] != true || r["count"] != float64(2) {
					t.Fatalf("fetch on %v: %v", r["node"], r)
				}
			}

			// A third server, in this process, sees both as members (their
			// heartbeats, default interval 5 s) and gets both answers to a
			// context call, without waiting for a timeout.
			rdb := redis.NewClient(srv.Options())
			b := redisadapter.New(rdb)
			if adapter == "sharded" {
				b = redisadapter.NewSharded(rdb)
			}
			third := siotest.StartNode(t, "v3-in-process", rdb, b)
			a := third.IO.Of("/", nil).Adapter().(*redisadapter.Adapter)
			deadline := time.Now().Add(15 * time.Second)
			for len(a.Members()) != 2 {
				if time.Now().After(deadline) {
					t.Fatalf("members %+v, want the v2 and the v3 processes", a.Members())
				}
				time.Sleep(50 * time.Millisecond)
			}
			socks, err := a.FetchSocketsContext(siotest.Ctx(t), nil)
			if err != nil || len(socks) != 2 {
				t.Fatalf("FetchSocketsContext: %d sockets, %v", len(socks), err)
			}
		})
	}
}
