// Package await holds the waiting of the test kits that needs no socket.io
// library: polling a condition, a context bounded for a test's calls, and
// the goroutine-leak check that waits for a closed server's goroutines to
// end.
package await

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Eventually polls cond until it holds or 5 s pass.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ctx returns a context cancelled after 10 s or when the test ends.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const (
	// coreFrames marks goroutines of the socket.io-agnostic core.
	coreFrames = "sioredis/internal/core."
	// suiteFrames marks goroutines of the shared test scenarios: they are
	// the test's own, like those of _test files.
	suiteFrames = "sioredis/internal/conformance."
)

// NoGoroutines fails when goroutines whose stacks mention pkg (e.g.
// "sioredis/redisadapter.") or the shared core ("sioredis/internal/core.",
// where the subscribers, workers and publishers run) outlive the servers
// that started them. It waits up to 2 s for them to end.
func NoGoroutines(t testing.TB, pkg string) {
	t.Helper()
	var stacks string
	for i := 0; i < 100; i++ {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		leaked := false
		for _, g := range strings.Split(stacks, "\n\n") {
			if (strings.Contains(g, pkg) || strings.Contains(g, coreFrames)) && !strings.Contains(g, "_test.") &&
				!strings.Contains(g, suiteFrames) && !strings.Contains(g, "testing.tRunner") {
				leaked = true
				break
			}
		}
		if !leaked {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("adapter goroutines leaked:\n%s", stacks)
}

// Within polls cond every 10 ms until it holds, failing the test after
// bound, and returns how long it took.
func Within(t testing.TB, what string, bound time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > bound {
			t.Fatalf("%s: not within %v", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}
