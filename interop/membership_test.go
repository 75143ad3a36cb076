package interop_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// goChildEnv makes the test binary a Go member server (name|redis
// address) instead of running tests, so that the membership test can
// freeze it with SIGSTOP.
const goChildEnv = "SIOREDIS_INTEROP_GO_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(goChildEnv); spec != "" {
		os.Exit(runGoChild(spec))
	}
	os.Exit(m.Run())
}

// The membership timings: heartbeats every 200 ms, dead after 2 s.
func memberOptions() []redisadapter.Option {
	return []redisadapter.Option{
		redisadapter.WithRequestsTimeout(10 * time.Second),
		redisadapter.WithHeartbeatInterval(200 * time.Millisecond),
		redisadapter.WithHeartbeatTimeout(2 * time.Second),
	}
}

func runGoChild(spec string) int {
	name, addr, ok := strings.Cut(spec, "|")
	if !ok {
		return 2
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	b := redisadapter.New(rdb, memberOptions()...)
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(b)
	srv := socket.NewServer(nil, opts)
	srv.On("sse-ack", func(args ...any) { args[len(args)-1].(socket.Ack)([]any{"pong-" + name}, nil) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.WaitHealthy(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready", srv.Of("/", nil).Adapter().(*redisadapter.Adapter).Uid())
	_, _ = io.Copy(io.Discard, os.Stdin)
	done := make(chan struct{})
	srv.Close(func(error) { close(done) })
	<-done
	return 0
}

// startGoChild starts a Go member server process and returns it with its
// uid on "/".
func startGoChild(t *testing.T, name, addr string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), goChildEnv+"="+name+"|"+addr)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.StdinPipe(); err != nil { // closed with the test: a graceful exit
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	uid := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				uid <- u
			}
		}
	}()
	select {
	case u := <-uid:
		return cmd, u
	case <-time.After(60 * time.Second):
		t.Fatalf("Go child %s not ready", name)
		return nil, ""
	}
}

// TestMembershipMixed: a Go server (the requester), a Node server and a
// second Go server in a child process, classic format. Node ignores the
// heartbeats and the responders' uid; the Go requester waits for Node by
// NUMSUB and for the Go server by its heartbeats; once the second Go
// server is frozen (its subscription still counted by Redis) and declared
// dead, the requester no longer waits for it while Node still answers.
func TestMembershipMixed(t *testing.T) {
	bin := requireNode(t)
	srv := redistest.Start(t)
	node := startNodeServer(t, bin, "node", "SIO_MODE=classic", "SIO_REDIS_URL="+srv.URL(), "SIO_SPECIFIC_RESPONSE_CHANNEL=false")
	rdb := redis.NewClient(srv.Options())
	b := redisadapter.New(rdb, memberOptions()...)
	a := siotest.StartNode(t, "go", rdb, b)
	a.IO.On("sse-ack", func(args ...any) { args[len(args)-1].(socket.Ack)([]any{"pong-go"}, nil) })
	child, childUID := startGoChild(t, "B", srv.Options().Addr)
	ra := a.IO.Of("/", nil).Adapter().(*redisadapter.Adapter)
	eventually(t, "the Go requester knows B (and only B: Node does not heartbeat)", func() bool {
		m := ra.Members()
		return len(m) == 1 && m[0].UID == childUID
	})
	gn := dialGo(t, "gn", node.URL, "/", nil) // a socket on the Node server
	ctx := context.Background()

	sorted := func(v []any) []any {
		slices.SortFunc(v, func(x, y any) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
		return v
	}
	hasSocket := func(socks []socket.SocketDetails, id string) bool {
		for _, s := range socks {
			if string(s.Id()) == id {
				return true
			}
		}
		return false
	}

	// Everyone alive: Node answers (counted by NUMSUB), B answers (by uid).
	answers, err := ra.ServerSideEmitWithAckContext(ctx, "sse-ack")
	if err != nil || !reflect.DeepEqual(sorted(answers), []any{"pong-B", "pong-node"}) {
		t.Fatalf("Go -> Node + Go: %v %v", answers, err)
	}
	socks, err := ra.FetchSocketsContext(ctx, nil)
	if err != nil || !hasSocket(socks, gn.ID()) {
		t.Fatalf("fetchSockets answered by Node: %d sockets, %v", len(socks), err)
	}
	// Node asks: both Go servers answer (their responses carry a uid
	// Node ignores).
	res := node.call(t, "serverSideEmit", map[string]any{"ev": "sse-ack", "ack": true})
	if m, ok := res.(map[string]any); !ok || m["err"] != nil || !reflect.DeepEqual(sorted(m["responses"].([]any)), []any{"pong-B", "pong-go"}) {
		t.Fatalf("Node -> Go: %s", show(res))
	}

	// B frozen: Redis still counts its subscription.
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B declared dead", func() bool { return len(ra.Members()) == 0 })
	start := time.Now()
	answers, err = ra.ServerSideEmitWithAckContext(ctx, "sse-ack")
	if err != nil || !reflect.DeepEqual(answers, []any{"pong-node"}) {
		t.Fatalf("with B dead: %v %v", answers, err)
	}
	socks, err = ra.FetchSocketsContext(ctx, nil)
	if err != nil || !hasSocket(socks, gn.ID()) {
		t.Fatalf("fetchSockets with B dead: %d sockets, %v", len(socks), err)
	}
	if d := time.Since(start); d > 3*time.Second { // requests timeout: 10 s
		t.Fatalf("calls took %v with B declared dead", d)
	}
	if n, err := ra.ServerCountContext(ctx); err != nil || n != 2 {
		t.Fatalf("server count %d %v, want 2 (this one and Node)", n, err)
	}
	if st := b.Stats(); st.MembersDead == 0 {
		t.Fatalf("stats %+v", st)
	}
}
