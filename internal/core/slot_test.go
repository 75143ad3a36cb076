package core

import (
	"fmt"
	"testing"

	"github.com/sioredis/sioredis/internal/redistest"
)

// TestKeySlot compares keySlot with CLUSTER KEYSLOT of a real Redis Cluster.
func TestKeySlot(t *testing.T) {
	if got := keySlot("123456789"); got != 0x31C3 { // the CRC16-XMODEM check value
		t.Fatalf("keySlot(123456789) = %d", got)
	}
	c := redistest.StartCluster(t)
	keys := []string{"", "foo", "{user1000}.a", "{user1000}.b", "a{}b", "a{b", "a}b{c}", "socket.io#/#", "socket.io#/admin#room#"}
	for i := 0; i < 50; i++ {
		keys = append(keys, fmt.Sprintf("socket.io#/#room-%d#", i))
	}
	for _, k := range keys {
		if got, want := keySlot(k), c.KeySlot(t, k); got != want {
			t.Errorf("keySlot(%q) = %d, CLUSTER KEYSLOT = %d", k, got, want)
		}
	}
}
