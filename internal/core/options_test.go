package core

import (
	"testing"
	"time"
)

// TestOptionsKeepDefaults: an empty, zero or negative value keeps the
// default of every option that bounds something (both bindings rely on
// it: a zero bound must not disable the bound), and a valid value is set.
func TestOptionsKeepDefaults(t *testing.T) {
	def := DefaultConfig()
	keep := Configure([]func(*Config){
		WithKey(""), WithRequestsTimeout(0), WithLogger(nil), WithSubscriptionMode("bogus"),
		WithInboxSize(-1), WithInboxBytes(0), WithPublishQueueSize(0), WithPublishQueueBytes(-5),
		WithMaxAnswerBytes(0), WithMaxHandshakeBytes(-1), WithHealthCheckInterval(-time.Second),
		WithHeartbeatInterval(0), WithHeartbeatTimeout(0),
		WithStreamName(""), WithStreamCount(0), WithMaxLen(-1), WithReadCount(0), WithBlockTime(0),
		WithSessionKeyPrefix(""), WithMaxReplay(0), WithMaxDisconnection(-time.Minute),
	})
	if keep.Key != def.Key || keep.RequestsTimeout != def.RequestsTimeout || keep.Logger != def.Logger ||
		keep.SubscriptionMode != def.SubscriptionMode || keep.InboxSize != def.InboxSize ||
		keep.InboxBytes != def.InboxBytes || keep.PublishQueueSize != def.PublishQueueSize ||
		keep.PublishQueueBytes != def.PublishQueueBytes || keep.MaxAnswerBytes != def.MaxAnswerBytes ||
		keep.MaxHandshakeBytes != def.MaxHandshakeBytes || keep.HealthCheckInterval != def.HealthCheckInterval ||
		keep.HeartbeatInterval != def.HeartbeatInterval || keep.HeartbeatTimeout != def.HeartbeatTimeout ||
		keep.Streams != def.Streams {
		t.Fatalf("invalid values changed the defaults:\n got %+v\nwant %+v", keep, def)
	}

	set := Configure([]func(*Config){
		WithKey("k"), WithRequestsTimeout(time.Second), WithInboxSize(3), WithPublishQueueBytes(7),
		WithHeartbeatTimeout(time.Minute), WithMaxLen(42), WithMaxDisconnection(time.Hour),
		WithPublishOnSpecificResponseChannel(false), WithoutHandshakes(), WithHandshakeFilter(nil),
	})
	if set.Key != "k" || set.RequestsTimeout != time.Second || set.InboxSize != 3 || set.PublishQueueBytes != 7 ||
		set.HeartbeatTimeout != time.Minute || set.Streams.MaxLen != 42 || set.Streams.MaxDisconnection != time.Hour ||
		set.PublishOnSpecificResponseChannel || !set.WithoutHandshakes || set.HandshakeFilter != nil {
		t.Fatalf("valid values not set: %+v", set)
	}
}
