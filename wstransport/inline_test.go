package wstransport_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/wstransport"
)

// TestInlineTrickleArrivesWhole: broadcasts sent a few milliseconds apart
// find every connection idle and are written on the sending goroutine
// (unless NoInlineWrites); bursts in between go through the writer
// goroutine. Every client gets every frame, in order, either way.
func TestInlineTrickleArrivesWhole(t *testing.T) {
	for _, noInline := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoInlineWrites=%v", noInline), func(t *testing.T) {
			withOptions(t, wstransport.Options{NoInlineWrites: noInline})
			s := startServerOn(t, true, false, nil)
			const clients, rounds, burst = 3, 40, 5
			var cs []*rawClient
			for i := 0; i < clients; i++ {
				cs = append(cs, rawDial(t, s))
			}
			before, _ := wstransport.InlineCounts()
			n := 0
			for r := 0; r < rounds; r++ {
				// One broadcast after a pause (inline), then a burst;
				// the clients read the round before the next pause, so
				// the pause starts once the writes are done.
				time.Sleep(25 * time.Millisecond) // past inlineGap and busyGap
				first := n
				for b := 0; b < burst; b++ {
					s.io.To("r").Emit("tick", n)
					n++
				}
				for ci, c := range cs {
					for i := first; i < n; i++ {
						if got, want := c.next(), fmt.Sprintf(`42["tick",%d]`, i); got != want {
							t.Fatalf("client %d frame %d: got %q, want %q", ci, i, got, want)
						}
					}
				}
			}
			inline, _ := wstransport.InlineCounts()
			inline -= before
			t.Logf("%d deliveries, %d written inline", clients*n, inline)
			if noInline && inline != 0 {
				t.Fatalf("%d batches written inline with NoInlineWrites", inline)
			}
			// At least the first broadcast after each pause, to each client.
			if !noInline && inline < clients*rounds/4 {
				t.Fatalf("%d batches written inline, want about %d: idle connections were not written inline", inline, clients*rounds)
			}
		})
	}
}

// TestInlineNonReaderDoesNotBlockSender: a trickle to a client that stops
// reading fills its socket; the write that does not fit leaves its rest to
// the writer goroutine instead of blocking the sender, the next broadcasts
// queue, and the client is closed at the queue cap. The reading client gets
// everything, and every Emit returns promptly.
func TestInlineNonReaderDoesNotBlockSender(t *testing.T) {
	withOptions(t, wstransport.Options{MaxQueuedBytes: 1 << 20, WriteTimeout: time.Minute})
	s := startServerOn(t, true, false, nil)
	gone := disconnects(s)
	reader := rawDial(t, s)
	nonReader(t, s)
	before := wstransport.ReadStats()
	_, restsBefore := wstransport.InlineCounts()

	pad := strings.Repeat("x", 8<<10)
	const step = 16
	var slowest time.Duration
	done := false
	for i := 0; !done; i += step {
		if i >= 20000 {
			t.Fatal("the client that does not read was not closed after 160 MiB")
		}
		for j := i; j < i+step; j++ {
			time.Sleep(1200 * time.Microsecond) // each connection idle again
			start := time.Now()
			s.io.To("r").Emit("tick", j, pad)
			slowest = max(slowest, time.Since(start))
		}
		for j := i; j < i+step; j++ {
			if got, want := reader.next(), fmt.Sprintf(`42["tick",%d,"%s"]`, j, pad); got != want {
				t.Fatalf("reading client, frame %d: got %.30q..., want %.30q...", j, got, want)
			}
		}
		select {
		case reason := <-gone:
			if reason != "transport error" {
				t.Fatalf("disconnect reason %q", reason)
			}
			done = true
		default:
		}
	}
	t.Logf("slowest Emit %v", slowest)
	// A liveness bound, far below the write timeout (a minute) that a
	// blocked inline write would wait for.
	if slowest > 10*time.Second {
		t.Fatalf("an Emit took %v: the sender waited for the client that does not read", slowest)
	}
	if got := wstransport.ReadStats().QueueOverflows - before.QueueOverflows; got != 1 {
		t.Fatalf("QueueOverflows moved by %d, want 1", got)
	}
	if _, rests := wstransport.InlineCounts(); rests == restsBefore {
		t.Fatal("no inline write left a rest: the socket of the client that does not read never filled during one")
	}
}
