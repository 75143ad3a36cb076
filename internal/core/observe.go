package core

import (
	"context"
	"errors"
	"time"

	"github.com/sioredis/sioredis"
)

// What the adapter tells its sioredis.Observer (Config.Observer) and the
// latency summaries of Stats.

// nopObserver stands in when no observer is configured.
type nopObserver struct{}

func (nopObserver) Attach(func() sioredis.Stats)                                       {}
func (nopObserver) Published(string, string, time.Duration, error)                     {}
func (nopObserver) Received(string, string)                                            {}
func (nopObserver) Dropped(string, string, sioredis.DropReason)                        {}
func (nopObserver) Undecodable(string)                                                 {}
func (nopObserver) RequestDone(string, string, sioredis.RequestOutcome, time.Duration) {}

// unknownKind labels a message dropped before it was decoded.
const unknownKind = "unknown"

// heartbeatKind labels the membership announcements.
const heartbeatKind = "heartbeat"

// socketOpResponse labels the answer to a pre-8.0 single-socket operation.
const socketOpResponse = "socketOpResponse"

// replyLabel is the kind label of an answer: the answers to fetchSockets,
// allRooms and serverSideEmit are told from the requests by a suffix.
func replyLabel(k Kind) string {
	switch k {
	case KindFetchSockets, KindAllRooms, KindServerSideEmit:
		return k.String() + "Response"
	}
	return k.String()
}

// askTimed is ask, timed and reported with its outcome.
func (a *Adapter) askTimed(ctx context.Context, r *request) (*pendingRequest, error) {
	start := time.Now()
	req, err := a.ask(ctx, r)
	answered := 0
	if req != nil {
		req.mu.Lock()
		answered = req.got
		req.mu.Unlock()
	}
	a.requestDone(r.kind.String(), start, outcome(err, answered))
	return req, err
}

// outcome classifies the end of a request that got answered answers.
func outcome(err error, answered int) sioredis.RequestOutcome {
	switch {
	case err == nil:
		return sioredis.OutcomeComplete
	case errors.Is(err, ErrServerGone):
		return sioredis.OutcomePartial // a server died or left unanswered
	case !errors.Is(err, ErrTimeout):
		return sioredis.OutcomeFailed
	case answered > 0:
		return sioredis.OutcomePartial
	default:
		return sioredis.OutcomeTimeout
	}
}

func (a *Adapter) requestDone(kind string, start time.Time, o sioredis.RequestOutcome) {
	d := time.Since(start)
	a.stats.requestLatency.record(d)
	a.hub.obs.RequestDone(a.name, kind, o, d)
}

func (a *Adapter) received(kind string) { a.hub.obs.Received(a.name, kind) }
