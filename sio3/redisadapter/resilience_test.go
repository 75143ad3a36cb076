package redisadapter_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/conformance"
)

// The resilience scenarios of internal/conformance (TestBoundedResources
// of the v2 binding has no v3 counterpart yet).

func TestRedisRestart(t *testing.T)           { conformance.RunRedisRestart(t, binding) }
func TestPeerDiesDuringRequests(t *testing.T) { conformance.RunPeerDiesDuringRequests(t, binding) }
func TestHostileInput(t *testing.T)           { conformance.RunHostileInput(t, binding) }
func TestHealthAndClose(t *testing.T)         { conformance.RunHealthAndClose(t, binding) }
func TestCloseDuringOutage(t *testing.T)      { conformance.RunCloseDuringOutage(t, binding) }
func TestCloseDuringRequests(t *testing.T)    { conformance.RunCloseDuringRequests(t, binding) }
