package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// numSlots is the number of hash slots of a Redis Cluster.
	numSlots = 16384
	// masters is the number of masters of a local cluster.
	masters = 3
	// clusterTimeout bounds how long a cluster may take to (re)converge.
	clusterTimeout = 30 * time.Second
)

// Cluster is a Redis Cluster for one test, from [StartCluster] or
// [StartClusterWithReplicas].
type Cluster struct {
	nodes    []*Node
	external bool
}

// Node is one node of a [Cluster]. Its address and ID never change; its
// role may (see [Cluster.Failover]).
type Node struct {
	c     *Cluster
	addr  string
	id    string
	in    *instance     // nil for a node of REDIS_CLUSTER_ADDRS
	admin *redis.Client // retry-less client for the kit's own commands

	mu sync.Mutex // serializes Stop, Kill and Restart
}

// StartCluster returns a Redis Cluster of three masters without replicas;
// see [StartClusterWithReplicas].
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	return StartClusterWithReplicas(t, 0)
}

// StartClusterWithReplicas returns a Redis Cluster for the test: the one at
// REDIS_CLUSTER_ADDRS (comma-separated host:port seeds) if that is set,
// else three cluster-enabled redis-server processes on free 127.0.0.1 ports
// sharing the 16384 slots evenly, each with the given number of replicas
// (more redis-server processes). It returns once every node reports
// cluster_state:ok and all nodes agree on who serves every slot. The
// processes are stopped when the test and its subtests have finished.
//
// Nodes run with cluster-node-timeout 2000 ms and the default
// cluster-require-full-coverage yes: once a master without a replica has
// been down for a few seconds, the whole cluster refuses commands until it
// is back.
func StartClusterWithReplicas(t testing.TB, replicas int) *Cluster {
	t.Helper()
	if env := os.Getenv("REDIS_CLUSTER_ADDRS"); env != "" {
		return externalCluster(t, env)
	}
	if _, err := redisServerBin(); err != nil {
		t.Fatalf("redistest: no Redis Cluster to test against: redis-server is not on PATH "+
			"(install it: apt-get install -y redis-server) and REDIS_CLUSTER_ADDRS is not set: %v", err)
	}
	if replicas < 0 {
		t.Fatalf("redistest: negative replica count %d", replicas)
	}
	n := masters * (1 + replicas)
	base := t.TempDir()
	insts := make([]*instance, n)
	busPorts := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		dir := filepath.Join(base, "node"+strconv.Itoa(i))
		wg.Go(func() {
			if errs[i] = os.Mkdir(dir, 0o755); errs[i] != nil {
				return
			}
			insts[i], errs[i] = startInstance(dir, func(int) ([]string, error) {
				// A failed attempt may have left a nodes.conf naming its
				// ports: start afresh.
				if err := os.Remove(filepath.Join(dir, "nodes.conf")); err != nil && !os.IsNotExist(err) {
					return nil, err
				}
				bus, err := freePort()
				busPorts[i] = bus
				return clusterArgs(dir, bus), err
			})
		})
	}
	wg.Wait()
	c := &Cluster{}
	for _, in := range insts {
		if in != nil {
			c.nodes = append(c.nodes, &Node{c: c, addr: in.addr(), in: in, admin: probeClient(in.addr())})
		}
	}
	t.Cleanup(c.shutdown)
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("redistest: start cluster nodes: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if err := c.create(ctx, busPorts); err != nil {
		t.Fatalf("redistest: create cluster: %v", err)
	}
	c.WaitHealthy(t)
	return c
}

// clusterArgs returns the extra redis-server arguments of a cluster node.
func clusterArgs(dir string, busPort int) []string {
	return []string{
		"--cluster-enabled", "yes",
		"--cluster-port", strconv.Itoa(busPort),
		"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
		"--cluster-node-timeout", "2000",
		// Let a replica take over however stale it is, and never move
		// replicas between masters behind the test's back.
		"--cluster-replica-validity-factor", "0",
		"--cluster-allow-replica-migration", "no",
		// Sync replicas at once, and don't wait long for them when a
		// master shuts down.
		"--repl-diskless-sync-delay", "0",
		"--shutdown-timeout", "1",
	}
}

// create assigns the slots, introduces the nodes to each other and
// attaches the replicas (node i >= masters replicates master i%masters).
func (c *Cluster) create(ctx context.Context, busPorts []int) error {
	for i, n := range c.nodes {
		id, err := n.admin.Do(ctx, "CLUSTER", "MYID").Text()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER MYID: %w", n.addr, err)
		}
		n.id = id
		// Distinct epochs, as redis-cli --cluster create sets them, so
		// that the nodes need not resolve epoch collisions first.
		if err := n.admin.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER SET-CONFIG-EPOCH: %w", n.addr, err)
		}
	}
	for i := range masters {
		lo, hi := i*numSlots/masters, (i+1)*numSlots/masters-1
		if err := c.nodes[i].admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER ADDSLOTSRANGE %d %d: %w", c.nodes[i].addr, lo, hi, err)
		}
	}
	first := c.nodes[0]
	for _, n := range c.nodes[1:] {
		if err := n.admin.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", first.in.port, busPorts[0]).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER MEET %s: %w", n.addr, first.addr, err)
		}
	}
	for i, n := range c.nodes[masters:] {
		master := c.nodes[i%masters]
		// The replica must have heard of its master before it can follow it.
		err := poll(ctx, func() error {
			return n.admin.Do(ctx, "CLUSTER", "REPLICATE", master.id).Err()
		})
		if err != nil {
			return fmt.Errorf("%s: CLUSTER REPLICATE %s (%s): %w", n.addr, master.id, master.addr, err)
		}
	}
	return nil
}

// externalCluster describes the cluster at the comma-separated seeds.
func externalCluster(t testing.TB, seeds string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	var errs []error
	for seed := range strings.SplitSeq(seeds, ",") {
		seed = strings.TrimSpace(seed)
		if seed == "" {
			continue
		}
		rdb := probeClient(seed)
		out, err := rdb.ClusterNodes(ctx).Result()
		_ = rdb.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", seed, err))
			continue
		}
		c := &Cluster{external: true}
		for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 8 || strings.Contains(f[2], "noaddr") || strings.Contains(f[2], "handshake") {
				continue
			}
			addr, _, _ := strings.Cut(f[1], "@")
			c.nodes = append(c.nodes, &Node{c: c, addr: addr, id: f[0], admin: probeClient(addr)})
		}
		t.Cleanup(c.shutdown)
		c.WaitHealthy(t)
		return c
	}
	t.Fatalf("redistest: no node of REDIS_CLUSTER_ADDRS (%s) answers CLUSTER NODES: %v", seeds, errors.Join(errs...))
	return nil
}

// shutdown stops all nodes at once and closes the admin clients.
func (c *Cluster) shutdown() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Go(func() {
			if n.in != nil {
				n.in.stop(false)
			}
			_ = n.admin.Close()
		})
	}
	wg.Wait()
}

// Addrs returns the addresses (host:port) of all nodes, those created as
// masters first.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.addr
	}
	return addrs
}

// Nodes returns all nodes, those created as masters first, then their
// replicas: with r replicas per master, node i >= 3 replicates node i%3
// (after a failover, roles may have changed: see [Node.Role]).
func (c *Cluster) Nodes() []*Node { return slices.Clone(c.nodes) }

// Node returns the node at addr, or nil.
func (c *Cluster) Node(addr string) *Node {
	for _, n := range c.nodes {
		if n.addr == addr {
			return n
		}
	}
	return nil
}

// Masters returns the nodes that are masters now, in [Cluster.Nodes] order.
// Stopped nodes are left out.
func (c *Cluster) Masters(t testing.TB) []*Node {
	t.Helper()
	var ms []*Node
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		if role, err := n.role(context.Background()); err != nil {
			t.Fatalf("redistest: %s: ROLE: %v", n.addr, err)
		} else if role == "master" {
			ms = append(ms, n)
		}
	}
	return ms
}

// Options returns new cluster client options with all nodes as seeds.
func (c *Cluster) Options() *redis.ClusterOptions {
	return &redis.ClusterOptions{Addrs: c.Addrs()}
}

// Client returns a new cluster client, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(c.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// KeySlot returns the hash slot of key (or of a sharded channel name).
func (c *Cluster) KeySlot(t testing.TB, key string) int {
	t.Helper()
	var errs []error
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		slot, err := n.admin.ClusterKeySlot(context.Background(), key).Result()
		if err == nil {
			return int(slot)
		}
		errs = append(errs, fmt.Errorf("%s: %w", n.addr, err))
	}
	t.Fatalf("redistest: CLUSTER KEYSLOT %q: %v", key, errors.Join(errs...))
	return 0
}

// SlotOwner returns the master that serves slot, as a running node sees it.
func (c *Cluster) SlotOwner(t testing.TB, slot int) *Node {
	t.Helper()
	owner, err := c.slotOwner(context.Background(), slot)
	if err != nil {
		t.Fatalf("redistest: owner of slot %d: %v", slot, err)
	}
	return owner
}

func (c *Cluster) slotOwner(ctx context.Context, slot int) (*Node, error) {
	var errs []error
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		ranges, err := n.admin.ClusterSlots(ctx).Result()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.addr, err))
			continue
		}
		for _, r := range ranges {
			if r.Start <= slot && slot <= r.End && len(r.Nodes) > 0 {
				if owner := c.Node(r.Nodes[0].Addr); owner != nil {
					return owner, nil
				}
				return nil, fmt.Errorf("slot %d is served by %s, not a node of this cluster", slot, r.Nodes[0].Addr)
			}
		}
		errs = append(errs, fmt.Errorf("%s: slot %d is not served", n.addr, slot))
	}
	return nil, errors.Join(errs...)
}

// WaitHealthy waits until every running node reports cluster_state:ok with
// all slots served, knows every node, agrees with the others on the owner
// and replicas of every slot, and (for a replica) is in sync with its
// master. It fails the test if that takes over 30 seconds.
func (c *Cluster) WaitHealthy(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if err := poll(ctx, func() error { return c.healthy(ctx) }); err != nil {
		t.Fatalf("redistest: cluster not healthy after %v: %v", clusterTimeout, err)
	}
}

// healthy returns nil if the cluster is healthy (see WaitHealthy), else
// what is wrong.
func (c *Cluster) healthy(ctx context.Context) error {
	var ref, refAddr string
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		info, err := n.admin.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER INFO: %w", n.addr, err)
		}
		for field, want := range map[string]string{
			"cluster_state":          "ok",
			"cluster_slots_assigned": strconv.Itoa(numSlots),
			"cluster_slots_ok":       strconv.Itoa(numSlots),
			"cluster_known_nodes":    strconv.Itoa(len(c.nodes)),
		} {
			if got := infoField(info, field); got != want {
				return fmt.Errorf("%s: %s is %q, want %q", n.addr, field, got, want)
			}
		}
		sig, err := n.slotMap(ctx)
		if err != nil {
			return err
		}
		if ref == "" {
			ref, refAddr = sig, n.addr
		} else if sig != ref {
			return fmt.Errorf("%s and %s disagree on the slot map:\n%s\nvs\n%s", refAddr, n.addr, ref, sig)
		}
		role, err := n.admin.Do(ctx, "ROLE").Slice()
		if err != nil {
			return fmt.Errorf("%s: ROLE: %w", n.addr, err)
		}
		if len(role) >= 4 && role[0] == "slave" && role[3] != "connected" {
			return fmt.Errorf("%s: replica link is %v", n.addr, role[3])
		}
	}
	return nil
}

// slotMap returns the node's CLUSTER SLOTS as text, one range a line with
// its master and replicas, after checking that it covers every slot.
func (n *Node) slotMap(ctx context.Context) (string, error) {
	ranges, err := n.admin.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("%s: CLUSTER SLOTS: %w", n.addr, err)
	}
	slices.SortFunc(ranges, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	var b strings.Builder
	next := 0
	for _, r := range ranges {
		if r.Start != next || len(r.Nodes) == 0 {
			return "", fmt.Errorf("%s: CLUSTER SLOTS does not serve slot %d", n.addr, next)
		}
		next = r.End + 1
		var replicas []string
		for _, rn := range r.Nodes[1:] {
			replicas = append(replicas, rn.Addr)
		}
		slices.Sort(replicas)
		fmt.Fprintf(&b, "%d-%d %s %v\n", r.Start, r.End, r.Nodes[0].Addr, replicas)
	}
	if next != numSlots {
		return "", fmt.Errorf("%s: CLUSTER SLOTS does not serve slot %d", n.addr, next)
	}
	return b.String(), nil
}

// poll calls f every pollInterval until it returns nil or ctx ends, and
// returns f's last error in the latter case.
func poll(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pollInterval):
		}
	}
}

// Addr returns the node's address as host:port.
func (n *Node) Addr() string { return n.addr }

// ID returns the node's cluster node ID.
func (n *Node) ID() string { return n.id }

// Options returns new client options for a direct (non-cluster)
// connection to this node.
func (n *Node) Options() *redis.Options { return &redis.Options{Addr: n.addr} }

// Client returns a new client connected directly to this node (not
// following redirections), closed when the test ends.
func (n *Node) Client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(n.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Role returns the node's current role as ROLE reports it: "master" or
// "slave".
func (n *Node) Role(t testing.TB) string {
	t.Helper()
	role, err := n.role(context.Background())
	if err != nil {
		t.Fatalf("redistest: %s: ROLE: %v", n.addr, err)
	}
	return role
}

func (n *Node) role(ctx context.Context) (string, error) {
	role, err := n.admin.Do(ctx, "ROLE").Slice()
	if err != nil {
		return "", err
	}
	if len(role) == 0 {
		return "", errors.New("empty ROLE reply")
	}
	s, _ := role[0].(string)
	return s, nil
}

// Running reports whether the node's process is up (always true for a
// node of REDIS_CLUSTER_ADDRS).
func (n *Node) Running() bool { return n.in == nil || n.in.running() }

// Stop shuts the node down gracefully (SIGTERM) and waits until it has
// exited. Its port and nodes.conf are kept for Restart. For a node of
// REDIS_CLUSTER_ADDRS, Stop skips the test.
func (n *Node) Stop(t testing.TB) {
	t.Helper()
	n.own(t, "stop")
	n.mu.Lock()
	defer n.mu.Unlock()
	n.in.stop(false)
}

// Kill ends the node abruptly (SIGKILL), like a crash, and waits until it
// has exited. For a node of REDIS_CLUSTER_ADDRS, Kill skips the test.
func (n *Node) Kill(t testing.TB) {
	t.Helper()
	n.own(t, "kill")
	n.mu.Lock()
	defer n.mu.Unlock()
	n.in.stop(true)
}

// Restart stops the node if it is running and starts it again on the same
// port with the same nodes.conf, so that it rejoins the cluster as the same
// node (with an empty data set). It returns once the node answers and, if
// every node of the cluster is then running, once the cluster is healthy
// again (see [Cluster.WaitHealthy]). For a node of REDIS_CLUSTER_ADDRS,
// Restart skips the test.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.own(t, "restart")
	n.mu.Lock()
	n.in.stop(false)
	err := n.in.start()
	n.mu.Unlock()
	if err != nil {
		t.Fatalf("redistest: restart cluster node %s: %v", n.addr, err)
	}
	for _, o := range n.c.nodes {
		if !o.Running() {
			return
		}
	}
	n.c.WaitHealthy(t)
}

// own skips the test if the node is not ours to control.
func (n *Node) own(t testing.TB, what string) {
	t.Helper()
	if n.in == nil {
		t.Skip(fmt.Sprintf("redistest: cannot %s cluster node %s of REDIS_CLUSTER_ADDRS: this test does not own it; unset REDIS_CLUSTER_ADDRS to run this test against its own cluster", what, n.addr))
	}
}

// ShardNumSub returns the number of SSUBSCRIBE subscribers of channel,
// summed over the running masters (PUBSUB SHARDNUMSUB only counts the node it
// runs on). It asks each master directly, so it stays right after a slot
// migration or a failover that a client's slot cache has not seen yet.
func (c *Cluster) ShardNumSub(t testing.TB, channel string) int64 {
	t.Helper()
	var total int64
	for _, m := range c.Masters(t) {
		ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
		res, err := m.Client(t).PubSubShardNumSub(ctx, channel).Result()
		cancel()
		if err == nil {
			total += res[channel]
		}
	}
	return total
}
