package siotest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/exactlyonce"
	"github.com/sioredis/sioredis/internal/rawclient"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/redisadapter"
)

// recordingTB is a testing.TB whose failures are recorded instead of
// failing the test: the test of the test kit. FailNow ends the goroutine
// like the real one, so checks run through run.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Fatalf(format string, args ...any) { r.Errorf(format, args...); r.FailNow() }
func (r *recordingTB) FailNow()                          { runtime.Goexit() }

// run runs check as a test body of r and returns what it reported.
func (r *recordingTB) run(check func()) []string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		check()
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.errors
	r.errors = nil
	return out
}

// TestNoMoreCannotMiss feeds a channel a value twice, takes one, and checks
// that NoMore reports the repeat every time, even with no quiet period. The
// old check, a select between the channel and time.After(0), misses it
// about half the time; the test shows that too.
func TestNoMoreCannotMiss(t *testing.T) {
	const tries = 200
	oldMissed := 0
	for i := 0; i < tries; i++ {
		ch := make(chan int, 2)
		ch <- i
		ch <- i // the duplicate
		<-ch
		r := &recordingTB{TB: t}
		if got := r.run(func() { NoMore(r, "ev", ch, 0) }); len(got) != 1 || !strings.Contains(got[0], "1 more than expected") {
			t.Fatalf("try %d: NoMore reported %q", i, got)
		}

		ch <- i
		ch <- i
		<-ch
		select {
		case <-ch:
		case <-time.After(0):
			oldMissed++
		}
	}
	if oldMissed == 0 {
		t.Fatalf("the old check never missed in %d tries: the premise of NoMore is wrong", tries)
	}
	t.Logf("the old select-with-time.After(0) check missed %d of %d duplicates", oldMissed, tries)

	// Nothing buffered: nothing reported.
	r := &recordingTB{TB: t}
	if got := r.run(func() { NoMore(r, "ev", make(chan int, 1), 0) }); len(got) != 0 {
		t.Fatalf("reported %q on an empty channel", got)
	}
}

// startMemoryNode is a Node with the Redis adapter (the stock in-memory
// adapter of socket.io v2.5.0 loses packets queued behind a broadcast).
func startMemoryNode(t *testing.T) *Node {
	rdb := redis.NewClient(redistest.Start(t).Options())
	return StartNode(t, "n", rdb, redisadapter.New(rdb))
}

// TestChecksFailOnDuplicatingClients runs each exactly-once check of the kit
// against clients rigged to record every event twice, and against honest
// clients: the checks must fail on the first and pass on the second.
func TestChecksFailOnDuplicatingClients(t *testing.T) {
	n := startMemoryNode(t)
	for _, dup := range []bool{false, true} {
		t.Run(fmt.Sprint("duplicating=", dup), func(t *testing.T) {
			was := exactlyonce.SetDuplicating(dup)
			defer exactlyonce.SetDuplicating(was)
			r := &recordingTB{TB: t}
			c := n.Dial(t, "/", nil, "a", "b", "c")
			c.T = r
			// The raw client reports to r from its start.
			raw := rawclient.Dial(r, n.URL, "/", nil, true)
			checks := []struct {
				name string
				emit func()
				do   func()
			}{
				{"Client.ExpectNoMore", func() { n.IO.Emit("a", 1) }, func() { c.Expect("a"); c.ExpectNoMore("a") }},
				{"Client.ExpectExactly", func() {
					for i := 0; i < 3; i++ {
						n.IO.Emit("b", i)
					}
				}, func() { c.ExpectExactly("b", 3) }},
				{"Client.ExpectNone(0)", func() { n.IO.Emit("c", 1) }, func() {
					c.Expect("c")
					time.Sleep(Quiet)
					c.ExpectNone("c", 0)
				}},
				{"RawClient.ExpectExactly", func() { n.IO.Emit("r", 1) }, func() { raw.ExpectExactly("r", 1) }},
			}
			for _, ch := range checks {
				ch.emit()
				got := r.run(ch.do)
				if dup && len(got) == 0 {
					t.Errorf("%s passed on a duplicating client", ch.name)
				}
				if !dup && len(got) != 0 {
					t.Errorf("%s failed on an honest client: %q", ch.name, got)
				}
				// Drain for the next check.
				time.Sleep(Quiet)
				for _, ev := range []string{"a", "b", "c"} {
					for len(c.Chan(ev)) > 0 {
						<-c.Chan(ev)
					}
				}
			}
		})
	}
}

// TestDoubleConnectDoublesBroadcasts shows, on the wire, what a client that
// sends CONNECT twice for one namespace gets: the server (socket.io v2.5.0,
// like Node's) creates a second socket on the same connection, and each
// broadcast reaches the connection once per socket. It is the mechanism of
// the duplicate deliveries that socket.io-client-go's double CONNECT caused
// (docs/notes/duplicate-delivery.md).
func TestDoubleConnectDoublesBroadcasts(t *testing.T) {
	n := startMemoryNode(t)
	// Two CONNECTs back to back, as socket.io-client-go sends them when
	// it loses its race: the second must arrive before the server
	// registered the first socket, or the server closes the connection.
	var raw *RawClient
	for attempt := 0; raw == nil; attempt++ {
		if attempt == 50 {
			t.Fatal("no attempt made two sockets")
		}
		c, err := rawclient.DialOnce(t, n.URL, "/", nil, rawclient.Options{Connects: 2}, false)
		if err != nil {
			continue
		}
		time.Sleep(Quiet)
		if n.IO.Of("/", nil).Sockets().Len() == 2 {
			raw = c
			t.Cleanup(c.Close)
			break
		}
		c.Close()
		Eventually(t, "no socket left", func() bool { return n.IO.Of("/", nil).Sockets().Len() == 0 })
	}
	n.IO.Emit("twice", 1)
	raw.ExpectExactly("twice", 2)
}

// TestDialConnectsOnce dials clients and checks that each made exactly one
// server-side socket.
func TestDialConnectsOnce(t *testing.T) {
	n := startMemoryNode(t)
	const clients = 30
	for i := 0; i < clients; i++ {
		n.Dial(t, "/", nil)
	}
	time.Sleep(Quiet)
	if got := n.IO.Of("/", nil).Sockets().Len(); got != clients {
		t.Fatalf("%d server sockets for %d clients", got, clients)
	}
}
