package redistest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
)

// MigrateSlot moves slot, with its keys, to the master at toAddr, the way
// redis-cli --cluster reshard does (CLUSTER SETSLOT IMPORTING/MIGRATING,
// MIGRATE of the keys, CLUSTER SETSLOT NODE), and waits until every running
// node agrees on the new owner and the cluster is healthy. Moving a slot to
// its current owner does nothing. Clients subscribed with SSUBSCRIBE to a
// channel of the slot get an sunsubscribe message from the old owner.
func (c *Cluster) MigrateSlot(t testing.TB, slot int, toAddr string) {
	t.Helper()
	if slot < 0 || slot >= numSlots {
		t.Fatalf("redistest: MigrateSlot: slot %d out of range", slot)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	dst := c.Node(toAddr)
	if dst == nil {
		t.Fatalf("redistest: MigrateSlot: %s is not a node of this cluster (%v)", toAddr, c.Addrs())
	}
	if role, err := dst.role(ctx); err != nil || role != "master" {
		t.Fatalf("redistest: MigrateSlot: %s is not a master (ROLE %q, %v)", toAddr, role, err)
	}
	src, err := c.slotOwner(ctx, slot)
	if err != nil {
		t.Fatalf("redistest: MigrateSlot: owner of slot %d: %v", slot, err)
	}
	if src == dst {
		return
	}
	if err := c.migrate(ctx, slot, src, dst); err != nil {
		t.Fatalf("redistest: move slot %d from %s to %s: %v", slot, src.addr, dst.addr, err)
	}
	err = poll(ctx, func() error {
		if err := c.healthy(ctx); err != nil {
			return err
		}
		owner, err := c.slotOwner(ctx, slot)
		if err == nil && owner != dst {
			err = fmt.Errorf("slot %d still served by %s", slot, owner.addr)
		}
		return err
	})
	if err != nil {
		t.Fatalf("redistest: slot %d moved to %s, but the cluster did not settle: %v", slot, dst.addr, err)
	}
}

// migrate moves slot from src to dst.
func (c *Cluster) migrate(ctx context.Context, slot int, src, dst *Node) error {
	host, port, err := net.SplitHostPort(dst.addr)
	if err != nil {
		return err
	}
	if err := dst.admin.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", src.id).Err(); err != nil {
		return fmt.Errorf("%s: SETSLOT IMPORTING: %w", dst.addr, err)
	}
	if err := src.admin.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst.id).Err(); err != nil {
		return fmt.Errorf("%s: SETSLOT MIGRATING: %w", src.addr, err)
	}
	for {
		keys, err := src.admin.ClusterGetKeysInSlot(ctx, slot, 1000).Result()
		if err != nil {
			return fmt.Errorf("%s: GETKEYSINSLOT: %w", src.addr, err)
		}
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 10000, "REPLACE", "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := src.admin.Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("%s: MIGRATE %d keys: %w", src.addr, len(keys), err)
		}
	}
	// The new owner first, so that it bumps its config epoch and the
	// change wins everywhere; then the old one; then the rest.
	for _, n := range append([]*Node{dst, src}, c.nodes...) {
		if n != src && n != dst {
			if !n.Running() {
				continue
			}
			if role, err := n.role(ctx); err != nil || role != "master" {
				continue
			}
		}
		if err := n.admin.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dst.id).Err(); err != nil && (n == src || n == dst) {
			return fmt.Errorf("%s: SETSLOT NODE: %w", n.addr, err)
		}
	}
	return nil
}

// Failover makes replica the master of its shard with CLUSTER FAILOVER (or
// CLUSTER FAILOVER FORCE if its master is down), and waits until it
// reports itself master and the cluster is healthy again.
func (c *Cluster) Failover(t testing.TB, replica *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if role, err := replica.role(ctx); err != nil || role != "slave" {
		t.Fatalf("redistest: Failover: %s is not a replica (ROLE %q, %v)", replica.addr, role, err)
	}
	err := replica.admin.Do(ctx, "CLUSTER", "FAILOVER").Err()
	if err != nil && strings.Contains(err.Error(), "FORCE") {
		err = replica.admin.Do(ctx, "CLUSTER", "FAILOVER", "FORCE").Err()
	}
	if err != nil {
		t.Fatalf("redistest: %s: CLUSTER FAILOVER: %v", replica.addr, err)
	}
	err = poll(ctx, func() error {
		if role, err := replica.role(ctx); err != nil || role != "master" {
			return fmt.Errorf("%s is still %q (%v)", replica.addr, role, err)
		}
		return c.healthy(ctx)
	})
	if err != nil {
		t.Fatalf("redistest: failover to %s did not complete: %v", replica.addr, err)
	}
}
