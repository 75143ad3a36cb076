package core

import (
	"sync/atomic"

	"github.com/sioredis/sioredis"
)

// counters are the live counters behind sioredis.Stats.
type counters struct {
	published, publishErrors, publishDropped atomic.Uint64
	received, dropped, decodeErrors, ignored atomic.Uint64
	reconnects, requestTimeouts              atomic.Uint64
	healthCheckFailures, connectFailures     atomic.Uint64
	subscribeRefused, masterSwitches         atomic.Uint64
	unsupportedSkipped, membersDead          atomic.Uint64
	membersLeft                              atomic.Uint64
	subscriptions                            atomic.Int64
	publishLatency, requestLatency           latency
	// hardening (issue 21)
	refusedNamespaces, answersTooLarge, descriptionsTrimmed atomic.Uint64
	inboxBytesDropped, rejectedPackets, roomsFiltered       atomic.Uint64
}

func (c *counters) snapshot() sioredis.Stats {
	return sioredis.Stats{
		Published:       c.published.Load(),
		PublishErrors:   c.publishErrors.Load(),
		PublishDropped:  c.publishDropped.Load(),
		Received:        c.received.Load(),
		Dropped:         c.dropped.Load(),
		DecodeErrors:    c.decodeErrors.Load(),
		Ignored:         c.ignored.Load(),
		Reconnects:      c.reconnects.Load(),
		RequestTimeouts: c.requestTimeouts.Load(),

		HealthCheckFailures: c.healthCheckFailures.Load(),
		ConnectFailures:     c.connectFailures.Load(),
		SubscribeRefused:    c.subscribeRefused.Load(),
		MasterSwitches:      c.masterSwitches.Load(),
		UnsupportedSkipped:  c.unsupportedSkipped.Load(),
		MembersDead:         c.membersDead.Load(),
		MembersLeft:         c.membersLeft.Load(),
		Subscriptions:       c.subscriptions.Load(),
		PublishLatency:      c.publishLatency.summary(),
		RequestLatency:      c.requestLatency.summary(),

		RefusedNamespaces:   c.refusedNamespaces.Load(),
		AnswersTooLarge:     c.answersTooLarge.Load(),
		DescriptionsTrimmed: c.descriptionsTrimmed.Load(),
		InboxBytesDropped:   c.inboxBytesDropped.Load(),
		RejectedPackets:     c.rejectedPackets.Load(),
		RoomsFiltered:       c.roomsFiltered.Load(),
	}
}
