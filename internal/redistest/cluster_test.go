package redistest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/redistest"
)

func TestCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	ctx := context.Background()
	rdb := c.Client(t)

	t.Run("state", func(t *testing.T) {
		if n := len(c.Nodes()); n != 3 {
			t.Fatalf("%d nodes, want 3", n)
		}
		if n := len(c.Masters(t)); n != 3 {
			t.Fatalf("%d masters, want 3", n)
		}
		if !slices.Equal(c.Addrs(), []string{c.Nodes()[0].Addr(), c.Nodes()[1].Addr(), c.Nodes()[2].Addr()}) {
			t.Fatalf("Addrs() = %v does not match Nodes()", c.Addrs())
		}
		for _, n := range c.Nodes() {
			if !strings.HasPrefix(n.Addr(), "127.0.0.1:") || n.Addr() == "127.0.0.1:6379" {
				t.Fatalf("node address %q, want a free 127.0.0.1 port", n.Addr())
			}
			info, err := n.Client(t).ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				t.Fatalf("%s: CLUSTER INFO = %q, %v", n.Addr(), info, err)
			}
		}
	})

	t.Run("keys on every shard", func(t *testing.T) {
		for i := range 30 {
			k := fmt.Sprintf("key-%d", i)
			if err := rdb.Set(ctx, k, i, 0).Err(); err != nil {
				t.Fatalf("SET %s: %v", k, err)
			}
		}
		err := rdb.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			if n, err := m.DBSize(ctx).Result(); err != nil || n == 0 {
				return fmt.Errorf("%s: DBSIZE = %d, %v; want keys on every master", m.Options().Addr, n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("sharded pubsub and MigrateSlot", func(t *testing.T) {
		const ch, key = "chan{mig}", "{mig}key"
		slot := c.KeySlot(t, ch)
		if s := c.KeySlot(t, key); s != slot {
			t.Fatalf("KeySlot(%q) = %d, KeySlot(%q) = %d", ch, slot, key, s)
		}
		if err := rdb.Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
		sub := rdb.SSubscribe(ctx, ch)
		defer sub.Close()
		expectKind(t, sub, "ssubscribe")
		if n, err := rdb.SPublish(ctx, ch, "hello").Result(); err != nil || n != 1 {
			t.Fatalf("SPUBLISH = %d, %v; want 1 receiver", n, err)
		}
		expectMessage(t, sub, "hello")

		src := c.SlotOwner(t, slot)
		var dst *redistest.Node
		for _, m := range c.Masters(t) {
			if m != src {
				dst = m
				break
			}
		}
		c.MigrateSlot(t, slot, dst.Addr())
		if got := c.SlotOwner(t, slot); got != dst {
			t.Fatalf("slot %d owned by %s after MigrateSlot to %s", slot, got.Addr(), dst.Addr())
		}
		// Every node's CLUSTER SHARDS names the new owner.
		for _, n := range c.Nodes() {
			if owner := shardOwner(t, n, slot); owner != dst.ID() {
				t.Fatalf("%s: CLUSTER SHARDS says slot %d is on %s, want %s", n.Addr(), slot, owner, dst.ID())
			}
		}
		// The old owner drops the subscription, and the key moved along.
		expectKind(t, sub, "sunsubscribe")
		if got, err := dst.Client(t).Get(ctx, key).Result(); err != nil || got != "v" {
			t.Fatalf("GET %s on the new owner = %q, %v; want \"v\"", key, got, err)
		}
		if err := src.Client(t).Get(ctx, key).Err(); err == nil || !strings.HasPrefix(err.Error(), "MOVED") {
			t.Fatalf("GET %s on the old owner: %v, want MOVED", key, err)
		}

		// Sharded pub/sub works on the new owner, once the client has
		// noticed the move (go-redis reloads its slot map lazily).
		sub2 := resubscribe(t, rdb, ch)
		defer sub2.Close()
		if n, err := rdb.SPublish(ctx, ch, "again").Result(); err != nil || n != 1 {
			t.Fatalf("SPUBLISH after migration = %d, %v; want 1 receiver", n, err)
		}
		expectMessage(t, sub2, "again")

		c.MigrateSlot(t, slot, dst.Addr()) // to the owner: nothing to do
	})

	t.Run("stop and restart a node", func(t *testing.T) {
		n := c.Nodes()[1]
		key := keyOn(t, c, n)
		id := n.ID()
		n.Stop(t)
		if n.Running() {
			t.Fatal("Running() after Stop")
		}
		direct := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1, DialerRetries: 1})
		defer direct.Close()
		if err := direct.Ping(ctx).Err(); err == nil {
			t.Fatal("PING succeeded on a stopped node")
		}
		n.Restart(t)
		if got, err := direct.ClusterMyID(ctx).Result(); err != nil || got != id {
			t.Fatalf("CLUSTER MYID after Restart = %q, %v; want %q", got, err, id)
		}
		if err := rdb.Set(ctx, key, "after", 0).Err(); err != nil {
			t.Fatalf("SET %s on the restarted node: %v", key, err)
		}
		if got, err := direct.Get(ctx, key).Result(); err != nil || got != "after" {
			t.Fatalf("GET %s on the restarted node = %q, %v", key, got, err)
		}
	})
	t.Run("as REDIS_CLUSTER_ADDRS", func(t *testing.T) {
		e := redistest.ExternalCluster(t, " ,"+c.Addrs()[1]+",")
		if len(e.Nodes()) != 3 {
			t.Fatalf("%d nodes, want 3", len(e.Nodes()))
		}
		for _, n := range c.Nodes() {
			if en := e.Node(n.Addr()); en == nil || en.ID() != n.ID() {
				t.Fatalf("node %s (%s) missing or with another ID", n.Addr(), n.ID())
			}
		}
		slot := e.KeySlot(t, "x")
		from := e.SlotOwner(t, slot)
		var to *redistest.Node
		for _, m := range e.Masters(t) {
			if m != from {
				to = m
			}
		}
		e.MigrateSlot(t, slot, to.Addr())
		if got := c.SlotOwner(t, slot).Addr(); got != to.Addr() {
			t.Fatalf("slot %d on %s after MigrateSlot to %s", slot, got, to.Addr())
		}
		if err := e.Client(t).Set(ctx, "x", 1, 0).Err(); err != nil {
			t.Fatal(err)
		}
		t.Run("Stop skips", func(t *testing.T) {
			e.Nodes()[0].Stop(t)
			t.Error("did not skip")
		})
		if !c.Nodes()[0].Running() {
			t.Fatal("a node given as REDIS_CLUSTER_ADDRS was stopped")
		}
	})
}

func TestClusterWithReplicasFailover(t *testing.T) {
	t.Parallel()
	c := redistest.StartClusterWithReplicas(t, 1)
	ctx := context.Background()
	nodes := c.Nodes()
	if len(nodes) != 6 || len(c.Masters(t)) != 3 {
		t.Fatalf("%d nodes, %d masters; want 6 and 3", len(nodes), len(c.Masters(t)))
	}
	replica, master := nodes[3], nodes[0]
	if r := replica.Role(t); r != "slave" {
		t.Fatalf("node 3 is %q, want a replica", r)
	}
	key := keyOn(t, c, master)
	rdb := c.Client(t)
	if err := rdb.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	c.Failover(t, replica)
	if r := replica.Role(t); r != "master" {
		t.Fatalf("after Failover the replica is %q", r)
	}
	if r := master.Role(t); r != "slave" {
		t.Fatalf("after Failover the old master is %q", r)
	}
	if owner := c.SlotOwner(t, c.KeySlot(t, key)); owner != replica {
		t.Fatalf("slot of %s on %s, want the promoted replica %s", key, owner.Addr(), replica.Addr())
	}
	if got, err := rdb.Get(ctx, key).Result(); err != nil || got != "v" {
		t.Fatalf("GET %s after failover = %q, %v", key, got, err)
	}
}

// resubscribe subscribes to the sharded channel ch, retrying while rdb still
// sends SSUBSCRIBE to the channel's previous owner.
func resubscribe(t *testing.T, rdb *redis.ClusterClient, ch string) *redis.PubSub {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rdb.ReloadState(ctx)
		sub := rdb.SSubscribe(ctx, ch)
		msg, err := sub.ReceiveTimeout(ctx, 5*time.Second)
		if err == nil {
			if s, ok := msg.(*redis.Subscription); !ok || s.Kind != "ssubscribe" {
				t.Fatalf("got %#v, want ssubscribe", msg)
			}
			return sub
		}
		sub.Close()
		if !strings.HasPrefix(err.Error(), "MOVED") || time.Now().After(deadline) {
			t.Fatalf("SSUBSCRIBE %s: %v", ch, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keyOn returns a key that node n serves.
func keyOn(t *testing.T, c *redistest.Cluster, n *redistest.Node) string {
	t.Helper()
	for i := range 1000 {
		k := fmt.Sprintf("k%d", i)
		if c.SlotOwner(t, c.KeySlot(t, k)) == n {
			return k
		}
	}
	t.Fatalf("no key for %s", n.Addr())
	return ""
}

// shardOwner returns the ID of the master that n's CLUSTER SHARDS says
// serves slot.
func shardOwner(t *testing.T, n *redistest.Node, slot int) string {
	t.Helper()
	shards, err := n.Client(t).ClusterShards(context.Background()).Result()
	if err != nil {
		t.Fatalf("%s: CLUSTER SHARDS: %v", n.Addr(), err)
	}
	for _, s := range shards {
		for _, r := range s.Slots {
			if int(r.Start) <= slot && slot <= int(r.End) {
				for _, node := range s.Nodes {
					if node.Role == "master" {
						return node.ID
					}
				}
			}
		}
	}
	return ""
}

func expectKind(t *testing.T, sub *redis.PubSub, kind string) {
	t.Helper()
	msg, err := sub.ReceiveTimeout(context.Background(), 5*time.Second)
	if err != nil {
		t.Fatalf("waiting for %s: %v", kind, err)
	}
	if s, ok := msg.(*redis.Subscription); !ok || s.Kind != kind {
		t.Fatalf("got %#v, want %s", msg, kind)
	}
}

func expectMessage(t *testing.T, sub *redis.PubSub, payload string) {
	t.Helper()
	msg, err := sub.ReceiveTimeout(context.Background(), 5*time.Second)
	if err != nil {
		t.Fatalf("waiting for message %q: %v", payload, err)
	}
	if m, ok := msg.(*redis.Message); !ok || m.Payload != payload {
		t.Fatalf("got %#v, want message %q", msg, payload)
	}
}
