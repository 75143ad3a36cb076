package emitter_test

import (
	"testing"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/siotest"
)

// checkExactlyOnce sends from the emitter to raw-frame recorders on each
// node (one reader each, so a repeat is the server's): a socket in several
// rooms, targeted by several rooms, by rooms and its own id, by its id
// alone, by one room (a room channel in dynamic sharded mode), with except
// lists, and a burst of back-to-back messages. Each must arrive exactly
// once, a sender's burst in order. wait waits until n servers listen on a
// room's channel (a no-op except in dynamic modes).
func checkExactlyOnce(t *testing.T, e *emitter.Emitter, nodes []*siotest.Node, wait func(t *testing.T, room string, n int64)) {
	raws := make([]*siotest.RawClient, len(nodes))
	for i, n := range nodes {
		raws[i] = siotest.DialRaw(t, n.URL, "/", nil, true)
		wait(t, raws[i].ID, 1)
	}
	r0, r1 := raws[0], raws[1]
	r1.Call("join", "x1", "x2", "x3")
	r0.Call("join", "x1")
	wait(t, "x1", 2)
	wait(t, "x2", 1)
	wait(t, "x3", 1)
	cases := []struct {
		name   string
		e      *emitter.Emitter
		r0, r1 int
	}{
		{"all", e, 1, 1},
		{"one-room", e.To("x2"), 0, 1},
		{"several-rooms", e.To("x1", "x2", "x3"), 1, 1},
		{"rooms-and-own-id", e.To("x2", "x3", r1.ID), 0, 1},
		{"own-id", e.To(r1.ID), 0, 1},
		{"except", e.To("x1", "x2").Except("x3"), 1, 0},
		{"except-own-id", e.Except(r1.ID, "nobody"), 1, 0},
	}
	for _, tc := range cases {
		must(t, tc.e.Emit("once-"+tc.name, 1))
		r0.ExpectExactly("once-"+tc.name, tc.r0)
		r1.ExpectExactly("once-"+tc.name, tc.r1)
	}
	// A burst with no spacing, to all and to several rooms.
	const burst = 200
	for j := 0; j < burst; j++ {
		must(t, e.Emit("once-burst", j))
		must(t, e.To("x1", "x2").Emit("once-burst-rooms", j))
	}
	for _, r := range raws {
		inOrder(t, r.ExpectExactly("once-burst", burst))
	}
	inOrder(t, r0.ExpectExactly("once-burst-rooms", burst))
	inOrder(t, r1.ExpectExactly("once-burst-rooms", burst))
}

// inOrder checks that frames carry 0, 1, 2, ... in their first argument.
func inOrder(t *testing.T, frames []siotest.Frame) {
	t.Helper()
	for i, f := range frames {
		if int(f.Args[0].(float64)) != i {
			t.Fatalf("frame #%d carries %v where %d was due", f.Seq, f.Args[0], i)
		}
	}
}
