package redisadapter_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/conformance"
)

// The sharded scenarios of internal/conformance (the topology and failover
// tests of the v2 binding have no v3 counterpart yet).

func TestShardedRoomChannels(t *testing.T) { conformance.RunShardedRoomChannels(t, binding) }

func TestShardedNodeStyleToGoSocket(t *testing.T) {
	conformance.RunShardedNodeStyleToGoSocket(t, binding)
}
