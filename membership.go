package sioredis

import (
	"fmt"
	"strings"
	"time"
)

// Version is the sioredis version a server announces in its heartbeats
// (see [Member]).
const Version = "0.1.0"

// Member is a Go server of the cluster as its heartbeats announce it. Each
// server has one uid per namespace, so a server appears once per namespace
// it serves.
type Member struct {
	// UID is the server's uid in Namespace.
	UID string `json:"uid"`
	// Namespace is the namespace the uid belongs to.
	Namespace string `json:"namespace"`
	// Host is the server's host name.
	Host string `json:"host"`
	// Version is the server's sioredis version.
	Version string `json:"version"`
	// Capabilities are the request kinds the server answers
	// (fetchSockets, allRooms, serverSideEmitWithAck, broadcastWithAck).
	Capabilities []string `json:"capabilities"`
	// StartedAt is when the server's namespace adapter started.
	StartedAt time.Time `json:"startedAt"`
}

// MemberEventKind says what happened to a member.
type MemberEventKind int

const (
	// MemberJoined: a server was heard for the first time, or again
	// after it had been declared dead.
	MemberJoined MemberEventKind = iota + 1
	// MemberLeft: a server announced that it closed the namespace.
	MemberLeft
	// MemberDead: a server was not heard for the heartbeat timeout.
	MemberDead
)

// String returns "joined", "left" or "dead".
func (k MemberEventKind) String() string {
	switch k {
	case MemberJoined:
		return "joined"
	case MemberLeft:
		return "left"
	case MemberDead:
		return "dead"
	}
	return fmt.Sprintf("MemberEventKind(%d)", int(k))
}

// MemberEvent is a join or a departure of a member.
type MemberEvent struct {
	Kind   MemberEventKind `json:"kind"`
	Member Member          `json:"member"`
}

// PartialError is the error of a cross-server call that returned without
// every expected answer: its deadline passed, its context was cancelled,
// or servers it waited for died or left (then it wraps [ErrServerGone]).
// The call returns the answers that arrived along with it. Use errors.As
// to get it; errors.Is sees through it to ErrTimeout,
// context.DeadlineExceeded, context.Canceled or ErrServerGone.
type PartialError struct {
	// Op is the call: fetchSockets, allRooms, serverSideEmit,
	// broadcastWithAck.
	Op string
	// Answered of Expected servers answered.
	Answered, Expected int
	// Missing are the uids of the known (heartbeating) servers that did
	// not answer, the dead or departed ones included.
	Missing []string
	// Unnamed counts the servers without heartbeats (Node servers) that
	// did not answer.
	Unnamed int
	// Err is why the call stopped waiting.
	Err error
}

// Error names the servers that did not answer.
func (e *PartialError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sioredis: %s: %d of %d servers answered", e.Op, e.Answered, e.Expected)
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, "; missing %s", strings.Join(e.Missing, ", "))
	}
	if e.Unnamed > 0 {
		fmt.Fprintf(&b, "; %d server(s) without heartbeat did not answer", e.Unnamed)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Err.
func (e *PartialError) Unwrap() error { return e.Err }
