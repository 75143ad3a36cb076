package redisadapter_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/core"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// Membership tests: three Go servers, the test's own and two child
// processes (this test binary re-executed, see TestMain), so that one can
// be killed with SIGKILL or frozen with SIGSTOP.

const memberChildEnv = "SIOREDIS_MEMBER_CHILD"

// The timings of the membership tests: heartbeats every 200 ms, dead after
// 2 s of silence (ten missed heartbeats: a loaded machine does not make a
// live server look dead), requests bounded by 10 s. The bounds asserted
// are well under the requests timeout.
const (
	mInterval = 200 * time.Millisecond
	mTimeout  = 2 * time.Second
	mRequests = 10 * time.Second
)

// memberSpec is what a child is told through memberChildEnv:
// format|redis address|name|heartbeat timeout.
type memberSpec struct {
	sharded bool
	addr    string
	name    string
	timeout time.Duration
}

func (s memberSpec) String() string {
	f := "classic"
	if s.sharded {
		f = "sharded"
	}
	return strings.Join([]string{f, s.addr, s.name, s.timeout.String()}, "|")
}

func memberBuilder(rdb redis.UniversalClient, sharded bool, timeout time.Duration, extra ...redisadapter.Option) *redisadapter.Builder {
	opts := append([]redisadapter.Option{
		redisadapter.WithHeartbeatInterval(mInterval),
		redisadapter.WithHeartbeatTimeout(timeout),
		redisadapter.WithRequestsTimeout(mRequests),
	}, extra...)
	if sharded {
		return redisadapter.NewSharded(rdb, opts...)
	}
	return redisadapter.New(rdb, opts...)
}

// memberHandlers: "who" answers the server's name; "hold" answers it unless
// the server is named in the arguments (it then never answers).
func memberHandlers(io *socket.Server, name string) {
	io.On("who", func(args ...any) { args[len(args)-1].(socket.Ack)([]any{name}, nil) })
	io.On("hold", func(args ...any) {
		for _, a := range args[:len(args)-1] {
			if a == name {
				return
			}
		}
		args[len(args)-1].(socket.Ack)([]any{name}, nil)
	})
}

// runMemberChild is the body of a child server: it prints "ready <uid>"
// once subscribed and closes gracefully when its stdin closes.
func runMemberChild() int {
	parts := strings.Split(os.Getenv(memberChildEnv), "|")
	if len(parts) != 4 {
		fmt.Fprintln(os.Stderr, "bad", memberChildEnv)
		return 2
	}
	timeout, err := time.ParseDuration(parts[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rdb := redis.NewClient(&redis.Options{Addr: parts[1]})
	defer rdb.Close()
	b := memberBuilder(rdb, parts[0] == "sharded", timeout)
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(b)
	srv := socket.NewServer(nil, opts)
	memberHandlers(srv, parts[2])
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

// memberChild is a child server process.
type memberChild struct {
	name  string
	uid   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startMemberChild(t *testing.T, spec memberSpec) *memberChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), memberChildEnv+"="+spec.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &memberChild{name: spec.name, cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if uid, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				line <- uid
			}
		}
	}()
	select {
	case c.uid = <-line:
	case <-time.After(60 * time.Second):
		t.Fatalf("child %s not ready", spec.name)
	}
	return c
}

func (c *memberChild) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// memberEvents records a listener's events.
type memberEvents struct {
	mu  sync.Mutex
	evs []string
}

func (e *memberEvents) add(ev redisadapter.MemberEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev.Kind.String()+" "+ev.Member.UID)
}

func (e *memberEvents) has(s string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Contains(e.evs, s)
}

// memberCluster starts this test's server and two children, B and C, and
// waits until the test's server knows both.
func memberCluster(t *testing.T, sharded bool, timeout time.Duration) (*siotest.Node, *redisadapter.Builder, *memberEvents, *memberChild, *memberChild) {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	events := &memberEvents{}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	b := memberBuilder(rdb, sharded, timeout, redisadapter.WithMemberListener(events.add))
	a := siotest.StartNode(t, "A", rdb, b)
	memberHandlers(a.IO, "A")
	if err := b.WaitHealthy(siotest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	cb := startMemberChild(t, memberSpec{sharded: sharded, addr: addr, name: "B", timeout: timeout})
	cc := startMemberChild(t, memberSpec{sharded: sharded, addr: addr, name: "C", timeout: timeout})
	siotest.Eventually(t, "A knows B and C", func() bool {
		var uids []string
		for _, m := range b.Members() {
			if m.Namespace == "/" {
				uids = append(uids, m.UID)
			}
		}
		slices.Sort(uids)
		want := []string{cb.uid, cc.uid}
		slices.Sort(want)
		return slices.Equal(uids, want)
	})
	for _, m := range b.Members() {
		if m.Version != "0.1.0" || m.Host == "" || m.StartedAt.IsZero() || !slices.Equal(m.Capabilities, core.Capabilities()) {
			t.Fatalf("member as announced: %+v", m)
		}
	}
	siotest.Eventually(t, "join events", func() bool { return events.has("joined "+cb.uid) && events.has("joined "+cc.uid) })
	return a, b, events, cb, cc
}

func rootAdapter(n *siotest.Node) *redisadapter.Adapter {
	return n.IO.Of("/", nil).Adapter().(*redisadapter.Adapter)
}

// wantGone checks a call's result: the survivors' answers and a
// PartialError naming the missing server.
func wantGone(t *testing.T, what string, answers []any, err error, want []any, missing string, cause error) {
	t.Helper()
	var pe *redisadapter.PartialError
	if !errors.As(err, &pe) || !errors.Is(err, cause) {
		t.Fatalf("%s: error %v, want a PartialError wrapping %v", what, err, cause)
	}
	if !slices.Equal(pe.Missing, []string{missing}) || pe.Answered != len(want) || pe.Expected != len(want)+1 {
		t.Fatalf("%s: %+v, want %s missing and %d of %d answers", what, pe, missing, len(want), len(want)+1)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Fatalf("%s: %q does not name %s", what, err, missing)
	}
	if !slices.Equal(answers, want) {
		t.Fatalf("%s: answers %v, want %v", what, answers, want)
	}
}

// fastCalls checks that calls return every live answer without waiting for
// the dead server: as fast as with two servers, bounded well under the
// requests timeout.
func fastCalls(t *testing.T, a *redisadapter.Adapter, want []any) {
	t.Helper()
	const bound = 3 * time.Second // requests timeout: 10 s
	start := time.Now()
	answers, err := a.ServerSideEmitWithAckContext(context.Background(), "who")
	slices.SortFunc(answers, func(x, y any) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	if err != nil || !slices.Equal(answers, want) {
		t.Fatalf("serverSideEmitWithAck: %v %v, want %v", answers, err, want)
	}
	if _, err := a.FetchSocketsContext(context.Background(), nil); err != nil {
		t.Fatalf("fetchSockets: %v", err)
	}
	d := time.Since(start)
	t.Logf("serverSideEmitWithAck + fetchSockets took %v", d)
	if d > bound {
		t.Fatalf("calls took %v with the dead server declared dead (bound %v)", d, bound)
	}
	n, err := a.ServerCountContext(context.Background())
	if err != nil || n != int64(len(want)+1) {
		t.Fatalf("server count %d %v, want %d", n, err, len(want)+1)
	}
}

// inFlight starts a "hold" call that victim never answers and returns its
// outcome.
func inFlight(a *redisadapter.Adapter, victim string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		answers, err := a.ServerSideEmitWithAckContext(context.Background(), "hold", victim)
		ch <- result{answers, err, time.Now()}
	}()
	return ch
}

type result struct {
	answers []any
	err     error
	at      time.Time
}

func TestMembershipKilledAndFrozenServers(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		name := "classic"
		if sharded {
			name = "sharded"
		}
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
			t.Run(name+"/"+sig.String(), func(t *testing.T) {
				a, b, events, victim, _ := memberCluster(t, sharded, mTimeout)
				ra := rootAdapter(a)
				call := inFlight(ra, "B")
				time.Sleep(2 * mInterval) // the request is out, B holds it
				victim.signal(t, sig)
				killed := time.Now()
				var r result
				select {
				case r = <-call:
				case <-time.After(mRequests):
					t.Fatal("the call in flight did not return")
				}
				// Declared dead within timeout + half an interval; the
				// bound leaves room for a loaded machine and stays well
				// under the requests timeout.
				d := r.at.Sub(killed)
				t.Logf("the call in flight returned %v after the signal (heartbeat timeout %v)", d, mTimeout)
				if d > mTimeout+mInterval+2*time.Second {
					t.Fatalf("the call in flight returned %v after the signal", d)
				}
				wantGone(t, "in flight", r.answers, r.err, []any{"C"}, victim.uid, redisadapter.ErrServerGone)
				siotest.Eventually(t, "dead event", func() bool { return events.has("dead " + victim.uid) })
				if b.Stats().MembersDead == 0 {
					t.Fatalf("stats %+v", b.Stats())
				}
				fastCalls(t, ra, []any{"C"})
				if sig == syscall.SIGSTOP {
					// Thawed, it heartbeats again and is waited for again.
					victim.signal(t, syscall.SIGCONT)
					siotest.Eventually(t, "B back", func() bool { return len(ra.Members()) == 2 })
					fastCalls(t, ra, []any{"B", "C"})
				}
			})
		}
	}
}

func TestMembershipGracefulClose(t *testing.T) {
	// A heartbeat timeout far above the bounds: only the leave message can
	// explain a fast return.
	const timeout = time.Minute
	a, b, events, _, leaver := memberCluster(t, false, timeout)
	ra := rootAdapter(a)
	call := inFlight(ra, "C")
	time.Sleep(2 * mInterval)
	closed := time.Now()
	if err := leaver.stdin.Close(); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-call:
	case <-time.After(mRequests):
		t.Fatal("the call in flight did not return")
	}
	d := r.at.Sub(closed)
	t.Logf("the call in flight returned %v after the close", d)
	if d > 5*time.Second {
		t.Fatalf("the call in flight returned %v after the close", d)
	}
	wantGone(t, "in flight", r.answers, r.err, []any{"B"}, leaver.uid, redisadapter.ErrServerGone)
	siotest.Eventually(t, "left event", func() bool { return events.has("left " + leaver.uid) })
	if b.Stats().MembersLeft == 0 {
		t.Fatalf("stats %+v", b.Stats())
	}
	if err := leaver.cmd.Wait(); err != nil {
		t.Fatalf("child exit: %v", err)
	}
	fastCalls(t, ra, []any{"B"})
	a.Close()
	siotest.AssertNoGoroutines(t, "sioredis/redisadapter.")
}

func TestMembershipRollingUpgrade(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		name := "classic"
		if sharded {
			name = "sharded"
		}
		t.Run(name, func(t *testing.T) { testRollingUpgrade(t, sharded) })
	}
}

func testRollingUpgrade(t *testing.T, sharded bool) {
	addr := os.Getenv("REDIS_ADDR")
	start := func(name string, extra ...redisadapter.Option) (*siotest.Node, *redisadapter.Builder) {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		b := memberBuilder(rdb, sharded, mTimeout, extra...)
		n := siotest.StartNode(t, name, rdb, b)
		memberHandlers(n.IO, name)
		if err := b.WaitHealthy(siotest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
		return n, b
	}
	a, ba := start("A")
	// B plays an older server: it neither answers nor announces allRooms
	// and serverSideEmit with ack.
	_, bb := start("B", redisadapter.WithCapabilities(core.CapFetchSockets, core.CapBroadcastWithAck))
	_, _ = start("C")
	siotest.Eventually(t, "members", func() bool { return len(ba.Members()) == 4 && len(bb.Members()) == 4 })
	ra := rootAdapter(a)
	before := ba.Stats().UnsupportedSkipped

	start0 := time.Now()
	answers, err := ra.ServerSideEmitWithAckContext(context.Background(), "who")
	if err != nil || !slices.Equal(answers, []any{"C"}) {
		t.Fatalf("serverSideEmitWithAck: %v %v, want C's answer only", answers, err)
	}
	skips := uint64(1)
	if !sharded { // the sharded format has no allRooms request
		if _, err := ra.AllRoomsContext(context.Background()); err != nil {
			t.Fatalf("allRooms: %v", err)
		}
		skips++
	}
	if d := time.Since(start0); d > 3*time.Second {
		t.Fatalf("calls took %v: B was waited for (requests timeout %v)", d, mRequests)
	}
	// One skip per call and namespace member lacking the kind.
	if got := ba.Stats().UnsupportedSkipped - before; got != skips {
		t.Fatalf("UnsupportedSkipped grew by %d, want %d", got, skips)
	}
	// B still answers what it announces (else this would wait for it
	// until the requests timeout and fail).
	a.Dial(t, "/", nil)
	socks, err := ra.FetchSocketsContext(context.Background(), nil)
	if err != nil || len(socks) != 1 {
		t.Fatalf("fetchSockets: %d sockets, %v", len(socks), err)
	}
}

// TestBroadcastWithAckContext: the acknowledgements of every server's
// clients; when one client never answers, the deadline returns those that
// arrived with a PartialError wrapping ErrTimeout.
func TestBroadcastWithAckContext(t *testing.T) {
	addr := os.Getenv("REDIS_ADDR")
	var nodes []*siotest.Node
	for _, name := range []string{"A", "B"} {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		b := memberBuilder(rdb, false, mTimeout)
		nodes = append(nodes, siotest.StartNode(t, name, rdb, b))
		if err := b.WaitHealthy(siotest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	siotest.Eventually(t, "members", func() bool { return len(rootAdapter(nodes[0]).Members()) == 1 })
	for _, n := range nodes {
		c := n.Dial(t, "/", nil)
		name := n.Name
		c.S.On("ask", func(args ...any) { args[len(args)-1].(func([]any, error))([]any{"from-" + name}, nil) })
	}
	ra := rootAdapter(nodes[0])
	acks, err := ra.BroadcastWithAckContext(context.Background(), nil, "ask", "q?")
	slices.SortFunc(acks, func(x, y any) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	if err != nil || !slices.Equal(acks, []any{"from-A", "from-B"}) {
		t.Fatalf("acks %v, %v", acks, err)
	}

	silent := nodes[1].Dial(t, "/", nil)
	silent.S.On("ask", func(args ...any) {}) // never acknowledges
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	acks, err = ra.BroadcastWithAckContext(ctx, nil, "ask", "q?")
	var pe *redisadapter.PartialError
	if !errors.As(err, &pe) || !errors.Is(err, redisadapter.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a PartialError wrapping ErrTimeout", err)
	}
	if pe.Answered != 2 || pe.Expected != 2 || len(acks) != 2 {
		t.Fatalf("%+v, acks %v", pe, acks)
	}
}
