package redisadapter_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/conformance"
)

// The name-collision scenarios of internal/conformance.

func TestNamespaceNamedLikeARoomChannel(t *testing.T) {
	conformance.RunNamespaceNamedLikeARoomChannel(t, binding)
}

func TestRoomNamedAfterServerUid(t *testing.T) { conformance.RunRoomNamedAfterServerUid(t, binding) }
