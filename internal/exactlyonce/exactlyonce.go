// Package exactlyonce holds what the exactly-once checks of the test kits
// share, whatever client records the events: how long a check waits for a
// repeat (Quiet), the drain that cannot miss one (NoMore), and the switch
// that makes every recording client duplicate events, against which the
// checks must fail.
package exactlyonce

import (
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// Quiet is how long the exactly-once checks wait for silence before they
// look for a repeat. Redis round trips on loopback take well under a
// millisecond; a repeat that arrives later than this is reported by the next
// check on the same event.
const Quiet = 200 * time.Millisecond

// InjectDuplicatesEnv names the environment variable that, set to 1, makes
// every recording client of the test kits record each event twice: a
// deliberately duplicating client against which the exactly-once checks must
// fail.
const InjectDuplicatesEnv = "SIOTEST_INJECT_DUPLICATES"

// duplicating is read from the environment once: a test binary runs either
// with or without the fault (the kit's own tests switch it).
var duplicating atomic.Bool

func init() { duplicating.Store(os.Getenv(InjectDuplicatesEnv) == "1") }

// Duplicating reports whether recording clients must record each event
// twice.
func Duplicating() bool { return duplicating.Load() }

// SetDuplicating switches the fault on or off and returns the previous
// setting: for the tests of the checks themselves.
func SetDuplicating(on bool) (was bool) { return duplicating.Swap(on) }

// NoMore waits quiet, then drains everything buffered on ch without a timer
// in the way, and reports each value found as a repeat of what. It never
// blocks after the quiet period, so it cannot miss a value that was buffered
// when it looked: unlike a select between ch and an expired timer, which
// picks either ready case at random. It reports with Errorf (so that every
// repeat is listed) and returns the number found.
func NoMore[T any](t testing.TB, what string, ch <-chan T, quiet time.Duration) int {
	t.Helper()
	time.Sleep(quiet)
	var extra []T
	for {
		select {
		case v := <-ch:
			extra = append(extra, v)
			continue
		default:
		}
		break
	}
	if len(extra) > 0 {
		t.Errorf("%s: %d more than expected: %v", what, len(extra), extra)
	}
	return len(extra)
}
