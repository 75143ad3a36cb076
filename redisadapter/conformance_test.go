package redisadapter_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/conformance"
	"github.com/sioredis/sioredis/internal/redistest"
)

// The conformance suite of internal/conformance, in every mode of the
// adapter.

func TestConformanceClassic(t *testing.T) {
	conformance.RunConformance(t, binding, conformance.ClassicMode(t))
}

// TestConformanceClassicSpecificResponse is the classic mode with answers on
// each requester's own response channel.
func TestConformanceClassicSpecificResponse(t *testing.T) {
	m := conformance.ClassicMode(t)
	m.Name = "classic-specific-response"
	m.Config.SpecificResponse = true
	conformance.RunConformance(t, binding, m)
}

func TestConformanceSharded(t *testing.T) {
	c := redistest.StartCluster(t)
	for _, sm := range conformance.ShardedModes {
		t.Run(string(sm), func(t *testing.T) { conformance.RunConformance(t, binding, conformance.ShardedMode(t, c, sm)) })
	}
}

func TestConformanceStreams(t *testing.T) {
	conformance.RunConformance(t, binding, conformance.StreamsMode(t))
}

// TestConformanceStreamsCluster runs the streams adapter on a Redis Cluster.
func TestConformanceStreamsCluster(t *testing.T) {
	conformance.RunConformance(t, binding, conformance.StreamsClusterMode(t, redistest.StartCluster(t)))
}
