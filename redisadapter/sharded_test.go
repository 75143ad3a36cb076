package redisadapter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/conformance"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

// The sharded scenarios of internal/conformance.

func TestShardedRoomChannels(t *testing.T) { conformance.RunShardedRoomChannels(t, binding) }

func TestShardedNodeStyleToGoSocket(t *testing.T) {
	conformance.RunShardedNodeStyleToGoSocket(t, binding)
}

// TestShardedTopologyChanges moves slots and restarts a master while
// broadcasts flow: the subscriptions follow and delivery resumes.
func TestShardedTopologyChanges(t *testing.T) {
	c := redistest.StartCluster(t)
	mk := func(name string) *siotest.Node {
		rdb := redis.NewClusterClient(c.Options())
		return siotest.StartNode(t, name, rdb, redisadapter.NewSharded(rdb, redisadapter.WithRequestsTimeout(2*time.Second)))
	}
	n0, n1 := mk("n0"), mk("n1")
	cl := n1.Dial(t, "/", nil, "tick", "all")
	cl.Call("join", "moving-room")
	admin := c.Client(t)
	roomCh := protocol.RoomChannel(protocol.DefaultPrefix, "/", "moving-room")
	mainCh := protocol.BroadcastChannel(protocol.DefaultPrefix, "/")
	siotest.Eventually(t, "room channel", func() bool { return c.ShardNumSub(t, roomCh) == 1 })

	// deliveryWorks: a broadcast to the room and one to all both arrive.
	deliveryWorks := func(what string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			n0.IO.To("moving-room").Emit("tick", what)
			n0.IO.Emit("all", what)
			okRoom, okAll := false, false
			timeout := time.After(300 * time.Millisecond)
		wait:
			for !(okRoom && okAll) {
				select {
				case a := <-chanOf(cl, "tick"):
					okRoom = okRoom || a[0] == what
				case a := <-chanOf(cl, "all"):
					okAll = okAll || a[0] == what
				case <-timeout:
					break wait
				}
			}
			if okRoom && okAll {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: delivery did not resume (room %v, all %v)", what, okRoom, okAll)
			}
		}
	}
	deliveryWorks("before")

	// Move the slots of the room channel and of the main channel to another
	// master.
	for _, ch := range []string{roomCh, mainCh} {
		slot := c.KeySlot(t, ch)
		owner := c.SlotOwner(t, slot)
		var target *redistest.Node
		for _, m := range c.Masters(t) {
			if m != owner {
				target = m
				break
			}
		}
		c.MigrateSlot(t, slot, target.Addr())
		if c.SlotOwner(t, slot) != target {
			t.Fatalf("slot %d did not move", slot)
		}
	}
	deliveryWorks("after-migration")
	siotest.Eventually(t, "subscriptions on the new owners", func() bool {
		return c.ShardNumSub(t, roomCh) == 1 && c.ShardNumSub(t, mainCh) == 2
	})

	// Restart the master that now owns the room channel.
	owner := c.SlotOwner(t, c.KeySlot(t, roomCh))
	owner.Stop(t)
	time.Sleep(300 * time.Millisecond)
	owner.Restart(t)
	c.WaitHealthy(t)
	deliveryWorks("after-restart")
	_ = admin
}

// TestShardedFailover promotes a replica of the master that owns the
// channels while broadcasts flow: subscriptions follow the new master.
func TestShardedFailover(t *testing.T) {
	c := redistest.StartClusterWithReplicas(t, 1)
	mk := func(name string) *siotest.Node {
		rdb := redis.NewClusterClient(c.Options())
		return siotest.StartNode(t, name, rdb, redisadapter.NewSharded(rdb))
	}
	n0, n1 := mk("n0"), mk("n1")
	cl := n1.Dial(t, "/", nil, "tick")
	cl.Call("join", "fo-room")
	roomCh := protocol.RoomChannel(protocol.DefaultPrefix, "/", "fo-room")
	admin := c.Client(t)
	siotest.Eventually(t, "room channel", func() bool {
		res, _ := admin.PubSubShardNumSub(siotest.Ctx(t), roomCh).Result()
		return res[roomCh] == 1
	})
	resumes := func(what string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			n0.IO.To("fo-room").Emit("tick", what)
			select {
			case a := <-chanOf(cl, "tick"):
				if a[0] == what {
					return
				}
			case <-time.After(300 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: delivery did not resume", what)
			}
		}
	}
	resumes("before")
	owner := c.SlotOwner(t, c.KeySlot(t, roomCh))
	var replica *redistest.Node
	for _, n := range c.Nodes() {
		if n.Role(t) == "slave" {
			info, _ := n.Client(t).Info(siotest.Ctx(t), "replication").Result()
			if strings.Contains(info, "master_port:"+strings.Split(owner.Addr(), ":")[1]) {
				replica = n
			}
		}
	}
	if replica == nil {
		t.Fatal("no replica of the owner")
	}
	c.Failover(t, replica)
	if c.SlotOwner(t, c.KeySlot(t, roomCh)) != replica {
		t.Fatal("failover did not move the slot")
	}
	resumes("after-failover")
}

// chanOf exposes a test client's event channel to select on.
func chanOf(c *siotest.Client, ev string) <-chan []any { return c.Chan(ev) }
