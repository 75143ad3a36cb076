package exactlyonce

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// Recorder keeps the events a test client received, each event name on a
// buffered channel of its own, and runs the exactly-once checks on them.
// The socket.io client kits of both bindings feed it from their listeners.
type Recorder struct {
	// T is where the checks report.
	T testing.TB
	// ID names the client in failures (its socket id, known once it is
	// connected).
	ID func() string

	mu  sync.Mutex
	got map[string]chan []any
}

func (r *Recorder) ch(ev string) chan []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string]chan []any{}
	}
	ch, ok := r.got[ev]
	if !ok {
		ch = make(chan []any, 1024)
		r.got[ev] = ch
	}
	return ch
}

// Chan returns the channel on which recorded ev events arrive.
func (r *Recorder) Chan(ev string) <-chan []any { return r.ch(ev) }

// Record returns the function a client's listener of ev calls with the
// event's arguments: it records them (twice when Duplicating).
func (r *Recorder) Record(ev string) func(args []any) {
	ch := r.ch(ev)
	return func(args []any) {
		ch <- args
		if Duplicating() {
			ch <- args
		}
	}
}

// Expect waits (at most 5 s) for one ev event and returns its arguments.
func (r *Recorder) Expect(ev string) []any {
	r.T.Helper()
	select {
	case args := <-r.ch(ev):
		return args
	case <-time.After(5 * time.Second):
		r.T.Fatalf("client %s: no %q event", r.ID(), ev)
		return nil
	}
}

// ExpectNone asserts that no ev event arrives within d, nor was buffered
// when d ended. For "nothing more after the expected ones" use ExpectNoMore,
// which waits for a quiet period first.
func (r *Recorder) ExpectNone(ev string, d time.Duration) {
	r.T.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case args := <-r.ch(ev):
		r.T.Fatalf("client %s: unexpected %q event %v", r.ID(), ev, args)
	case <-timer.C:
	}
	// The timer may have won a race with a buffered event: drain.
	if NoMore(r.T, fmt.Sprintf("client %s: %q events", r.ID(), ev), r.Chan(ev), 0) > 0 {
		r.T.FailNow()
	}
}

// ExpectNoMore asserts that no further ev event arrives: the exactly-once
// check. It waits Quiet, then drains what is buffered (see NoMore).
func (r *Recorder) ExpectNoMore(ev string) {
	r.T.Helper()
	if NoMore(r.T, fmt.Sprintf("client %s: %q events (a repeat)", r.ID(), ev), r.Chan(ev), Quiet) > 0 {
		r.T.FailNow()
	}
}

// ExpectExactly waits for n ev events, then asserts that no more arrive (as
// ExpectNoMore), and returns their arguments in arrival order.
func (r *Recorder) ExpectExactly(ev string, n int) [][]any {
	r.T.Helper()
	got := make([][]any, 0, n)
	for i := 0; i < n; i++ {
		got = append(got, r.Expect(ev))
	}
	r.ExpectNoMore(ev)
	return got
}
