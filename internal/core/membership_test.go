package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/sioredis/sioredis"
	"github.com/sioredis/sioredis/internal/protocol"
)

func testMembership(t *testing.T) *membership {
	t.Helper()
	a := &Adapter{hub: &Hub{cfg: DefaultConfig()}, name: "/", stats: &counters{}, log: newRateLog(slog.New(slog.DiscardHandler))}
	return newMembership(a)
}

func heartbeat(uid string, caps ...string) *protocol.Envelope {
	return &protocol.Envelope{Type: protocol.MsgHeartbeat, UID: uid, Nsp: "/",
		Member: &protocol.MemberInfo{Host: "h", Version: "v", Capabilities: caps, HasCapabilities: caps != nil}}
}

// TestExpectRule: named = live members announcing the kind; anonymous =
// NUMSUB - 1 - live - departed members Redis may still count.
func TestExpectRule(t *testing.T) {
	m := testMembership(t)
	m.onHeartbeat(heartbeat("b"))
	m.onHeartbeat(heartbeat("c", CapFetchSockets))                                     // an older server
	m.onHeartbeat(&protocol.Envelope{Type: protocol.MsgHeartbeat, UID: "d", Nsp: "/"}) // no data: answers all

	// 1 (this) + b, c, d + 2 Node servers.
	named, anon := m.expect(KindFetchSockets, 6)
	if !slices.Equal(named, []string{"b", "c", "d"}) || anon != 2 {
		t.Fatalf("fetchSockets: %v + %d", named, anon)
	}
	named, anon = m.expect(KindAllRooms, 6)
	if !slices.Equal(named, []string{"b", "d"}) || anon != 2 || m.a.stats.unsupportedSkipped.Load() != 1 {
		t.Fatalf("allRooms: %v + %d, skipped %d", named, anon, m.a.stats.unsupportedSkipped.Load())
	}
	// b leaves: while Redis may still count it, it is not taken for a
	// Node server.
	m.onHeartbeat(&protocol.Envelope{Type: protocol.MsgAdapterClose, UID: "b", Nsp: "/"})
	named, anon = m.expect(KindFetchSockets, 6)
	if !slices.Equal(named, []string{"c", "d"}) || anon != 2 {
		t.Fatalf("after b left: %v + %d", named, anon)
	}
	// c dies.
	m.mu.Lock()
	m.peers["c"].lastSeen = time.Now().Add(-time.Hour)
	m.peers["b"].checkedAt = time.Now() // no Redis here to check b's subscription
	m.mu.Unlock()
	m.sweep(time.Now())
	if got := m.members(); len(got) != 1 || got[0].UID != "d" || m.a.stats.membersDead.Load() != 1 || m.a.stats.membersLeft.Load() != 1 {
		t.Fatalf("members %+v, stats dead %d left %d", got, m.a.stats.membersDead.Load(), m.a.stats.membersLeft.Load())
	}
	// More members than Redis counts (a subscription not there yet):
	// never a negative number of Node servers.
	if named, anon = m.expect(KindFetchSockets, 1); !slices.Equal(named, []string{"d"}) || anon != 0 {
		t.Fatalf("NUMSUB 1: %v + %d", named, anon)
	}
	// A dead member heard again is live again.
	m.onHeartbeat(heartbeat("c"))
	if named, _ = m.expect(KindAllRooms, 6); !slices.Equal(named, []string{"c", "d"}) {
		t.Fatalf("c back: %v", named)
	}
}

// TestRequestStopsWaitingForGoneMember: a request in flight completes as
// soon as the member it still waits for is gone, with a PartialError
// naming it.
func TestRequestStopsWaitingForGoneMember(t *testing.T) {
	r := newPendingRequest(KindServerSideEmit, []string{"b", "c"}, 1)
	fill := func(p *pendingRequest) { p.values = append(p.values, 1) }
	r.answer(KindServerSideEmit, "c", fill)
	r.answer(KindServerSideEmit, "", fill) // Node
	go r.memberGone("b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !r.wait(ctx, nil) {
		t.Fatal("not complete after b was gone")
	}
	pe := r.partial(ErrServerGone)
	if !slices.Equal(pe.Missing, []string{"b"}) || pe.Answered != 2 || pe.Expected != 3 || !errors.Is(pe, ErrServerGone) {
		t.Fatalf("%+v", pe)
	}

	// Broadcast with acks: a server that reported 2 clients and dies after
	// one acknowledgement is not waited for any more.
	var acks int
	a := newAckRequest(func(uint64) {}, func([]any, error) { acks++ })
	a.expect([]string{"self", "b"}, 0)
	a.onCount("self", 0)
	a.onCount("b", 2)
	a.onAck("b", []any{1}, nil)
	if a.complete() {
		t.Fatal("complete with an acknowledgement missing")
	}
	a.memberGone("b")
	if !a.complete() || a.servers() != 2 || acks != 1 {
		t.Fatalf("complete %v servers %d acks %d", a.complete(), a.servers(), acks)
	}
}

// TestPartialErrorCauses: a cancelled call wraps context.Canceled, an
// expired one ErrTimeout and context.DeadlineExceeded (and counts a
// timeout); both name the member that did not answer.
func TestPartialErrorCauses(t *testing.T) {
	a := &Adapter{stats: &counters{}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newPendingRequest(KindFetchSockets, []string{"b"}, 1)
	err := a.partialError(ctx, r.wait(ctx, nil), r.partial, false)
	var pe *sioredis.PartialError
	if !errors.As(err, &pe) || !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) ||
		!slices.Equal(pe.Missing, []string{"b"}) || pe.Unnamed != 1 || pe.Expected != 2 || pe.Answered != 0 {
		t.Fatalf("cancelled: %v %+v", err, pe)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	r = newPendingRequest(KindFetchSockets, []string{"b"}, 0)
	err = a.partialError(ctx, r.wait(ctx, nil), r.partial, false)
	if !errors.As(err, &pe) || !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) ||
		a.stats.requestTimeouts.Load() != 1 {
		t.Fatalf("expired: %v, timeouts %d", err, a.stats.requestTimeouts.Load())
	}
}

// TestPeersBounded: a flood of made-up uids cannot grow the member table
// without bound; the excess is counted as ignored.
func TestPeersBounded(t *testing.T) {
	m := testMembership(t)
	for i := range maxPeers + 10 {
		m.onHeartbeat(heartbeat(fmt.Sprint("u", i)))
	}
	if n := len(m.members()); n != maxPeers || m.a.stats.ignored.Load() != 10 {
		t.Fatalf("%d members, %d ignored", n, m.a.stats.ignored.Load())
	}
}
