package redisadapter_test

import (
	"testing"

	"github.com/sioredis/sioredis/internal/conformance"
)

// The namespace scenarios of internal/conformance: dynamic namespaces that
// come and go, io.Close from a listener, idle namespaces' memory and the
// inbox bound.

func TestDynamicNamespaceDisconnectPublishes(t *testing.T) {
	conformance.RunDynamicNamespaceDisconnectPublishes(t, binding)
}

func TestDynamicNamespaceRemoteCleanup(t *testing.T) {
	conformance.RunDynamicNamespaceRemoteCleanup(t, binding)
}

func TestCloseFromHandler(t *testing.T) { conformance.RunCloseFromHandler(t, binding) }

func TestManyDynamicNamespacesMemory(t *testing.T) {
	conformance.RunManyDynamicNamespacesMemory(t, binding)
}

func TestInboxBound(t *testing.T) { conformance.RunInboxBound(t, binding) }
