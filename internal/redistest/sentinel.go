package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMasterName is the name the Sentinels of a [SentinelSet] monitor
// their master under.
const SentinelMasterName = "sioredis"

// Sentinel timing of a [SentinelSet]: a master that does not answer for
// sentinelDownAfter is considered down, and a failover that has not
// completed within sentinelFailoverTimeout is tried again.
const (
	sentinelDownAfter       = time.Second
	sentinelFailoverTimeout = 10 * time.Second
)

// SentinelSet is a master, its replicas and the Sentinels monitoring them,
// every one a redis-server process of its own on a free 127.0.0.1 port,
// from [StartSentinelSet].
type SentinelSet struct {
	data      []*instance // the master first, at start
	sentinels []*instance
	admin     map[string]*redis.Client // retry-less clients by address
	mu        sync.Mutex
}

// StartSentinelSet starts a master with the given number of replicas and
// sentinels Sentinels (quorum: a majority of them), and returns once every
// Sentinel knows the replicas and the other Sentinels, so that a failover
// can start at once. Sentinels consider the master down after 1 s of
// silence. Everything is stopped when the test ends. It needs
// redis-sentinel's mode of redis-server (Debian: apt-get install -y
// redis-sentinel, which CI installs); without it the test fails.
func StartSentinelSet(t testing.TB, replicas, sentinels int) *SentinelSet {
	t.Helper()
	if _, err := redisServerBin(); err != nil {
		t.Fatalf("redistest: redis-server is not on PATH (install it: apt-get install -y redis-server redis-sentinel): %v", err)
	}
	if replicas < 1 || sentinels < 1 {
		t.Fatalf("redistest: a sentinel set needs a replica and a Sentinel, got %d and %d", replicas, sentinels)
	}
	base := t.TempDir()
	s := &SentinelSet{admin: map[string]*redis.Client{}}
	t.Cleanup(s.shutdown)
	master, err := startInstance(mkdirAll(t, filepath.Join(base, "master")), func(int) ([]string, error) {
		return []string{"--repl-diskless-sync-delay", "0"}, nil
	})
	if err != nil {
		t.Fatalf("redistest: start master: %v", err)
	}
	s.add(&s.data, master)
	for i := range replicas {
		in, err := startInstance(mkdirAll(t, filepath.Join(base, "replica"+strconv.Itoa(i))), func(int) ([]string, error) {
			return []string{"--replicaof", "127.0.0.1", strconv.Itoa(master.port), "--repl-diskless-sync-delay", "0"}, nil
		})
		if err != nil {
			t.Fatalf("redistest: start replica: %v", err)
		}
		s.add(&s.data, in)
	}
	quorum := sentinels/2 + 1
	for i := range sentinels {
		in, err := startSentinel(filepath.Join(base, "sentinel"+strconv.Itoa(i)), master.port, quorum)
		if err != nil {
			t.Fatalf("redistest: start sentinel: %v", err)
		}
		s.add(&s.sentinels, in)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	err = poll(ctx, func() error {
		for _, in := range s.sentinels {
			m, err := s.client(in.addr()).Do(ctx, "SENTINEL", "MASTER", SentinelMasterName).Slice()
			if err != nil {
				return err
			}
			f := pairs(m)
			if f["num-slaves"] != strconv.Itoa(replicas) || f["num-other-sentinels"] != strconv.Itoa(sentinels-1) {
				return fmt.Errorf("sentinel %s sees %s replicas and %s other sentinels", in.addr(), f["num-slaves"], f["num-other-sentinels"])
			}
		}
		for _, in := range s.data[1:] {
			info, err := s.client(in.addr()).Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if infoField(info, "master_link_status") != "up" {
				return fmt.Errorf("replica %s not in sync yet", in.addr())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("redistest: sentinel set did not converge: %v", err)
	}
	return s
}

// mkdirAll creates dir and returns it.
func mkdirAll(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return dir
}

func (s *SentinelSet) add(to *[]*instance, in *instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*to = append(*to, in)
	s.admin[in.addr()] = probeClient(in.addr())
}

func (s *SentinelSet) client(addr string) *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admin[addr]
}

// startSentinel starts redis-server in Sentinel mode in dir, monitoring the
// master on 127.0.0.1:masterPort.
func startSentinel(dir string, masterPort, quorum int) (*instance, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var err error
	for range startAttempts {
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %d %d
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, port, dir, filepath.Join(dir, "redis.log"),
			SentinelMasterName, masterPort, quorum,
			SentinelMasterName, sentinelDownAfter.Milliseconds(),
			SentinelMasterName, sentinelFailoverTimeout.Milliseconds(),
			SentinelMasterName)
		if err = os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return nil, err
		}
		in := &instance{dir: dir, port: port, args: []string{conf, "--sentinel"}}
		if err = in.start(); err == nil {
			return in, nil
		}
		if !errors.Is(err, errPortInUse) {
			return nil, err
		}
	}
	return nil, err
}

// pairs turns a flat [k1 v1 k2 v2 ...] reply into a map.
func pairs(flat []any) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(flat); i += 2 {
		m[fmt.Sprint(flat[i])] = fmt.Sprint(flat[i+1])
	}
	return m
}

func (s *SentinelSet) shutdown() {
	s.mu.Lock()
	all := append(append([]*instance{}, s.sentinels...), s.data...)
	admins := s.admin
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range all {
		wg.Go(func() { in.stop(false) })
	}
	wg.Wait()
	for _, c := range admins {
		_ = c.Close()
	}
}

// SentinelAddrs returns the Sentinels' addresses, for
// redis.FailoverOptions.SentinelAddrs.
func (s *SentinelSet) SentinelAddrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	addrs := make([]string, len(s.sentinels))
	for i, in := range s.sentinels {
		addrs[i] = in.addr()
	}
	return addrs
}

// FailoverOptions returns options for redis.NewFailoverClient with short
// timeouts, so that tests notice a frozen master quickly.
func (s *SentinelSet) FailoverOptions() *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName:    SentinelMasterName,
		SentinelAddrs: s.SentinelAddrs(),
		DialTimeout:   time.Second,
		ReadTimeout:   time.Second,
		WriteTimeout:  time.Second,
	}
}

// Master returns the address of the master as the first answering
// Sentinel reports it.
func (s *SentinelSet) Master(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := s.master(ctx)
	if err != nil {
		t.Fatalf("redistest: no Sentinel names the master: %v", err)
	}
	return addr
}

func (s *SentinelSet) master(ctx context.Context) (string, error) {
	var errs []error
	for _, addr := range s.SentinelAddrs() {
		hp, err := s.client(addr).Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SentinelMasterName).StringSlice()
		if err == nil && len(hp) == 2 {
			return hp[0] + ":" + hp[1], nil
		}
		errs = append(errs, fmt.Errorf("%s: %v", addr, err))
	}
	return "", errors.Join(errs...)
}

// WaitMasterNot waits (up to 30 s) until every answering Sentinel names a
// master other than old and that server reports the master role, and
// returns its address.
func (s *SentinelSet) WaitMasterNot(t testing.TB, old string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	var now string
	err := poll(ctx, func() error {
		addr, err := s.master(ctx)
		if err != nil {
			return err
		}
		if addr == old {
			return fmt.Errorf("the master is still %s", old)
		}
		role, err := s.client(addr).Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("%s has role %v", addr, role)
		}
		now = addr
		return nil
	})
	if err != nil {
		t.Fatalf("redistest: no failover away from %s: %v", old, err)
	}
	return now
}

// Failover asks a Sentinel for a planned failover (SENTINEL FAILOVER) and
// returns the new master's address once it has taken over.
func (s *SentinelSet) Failover(t testing.TB) string {
	t.Helper()
	old := s.Master(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.client(s.SentinelAddrs()[0]).Do(ctx, "SENTINEL", "FAILOVER", SentinelMasterName).Err(); err != nil {
		t.Fatalf("redistest: SENTINEL FAILOVER: %v", err)
	}
	return s.WaitMasterNot(t, old)
}

// data returns the data server (master or replica) at addr.
func (s *SentinelSet) dataNode(t testing.TB, addr string) *instance {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.data {
		if in.addr() == addr {
			return in
		}
	}
	t.Fatalf("redistest: %s is not a data server of this sentinel set", addr)
	return nil
}

// Freeze suspends the data server (master or replica) at addr with
// SIGSTOP; see [Server.Freeze]. It is resumed at the end of the test.
func (s *SentinelSet) Freeze(t testing.TB, addr string) { t.Helper(); freeze(t, s.dataNode(t, addr)) }

// Thaw resumes a data server suspended by Freeze.
func (s *SentinelSet) Thaw(t testing.TB, addr string) { t.Helper(); thaw(t, s.dataNode(t, addr)) }

// KillSentinel ends Sentinel i (an index into SentinelAddrs) with SIGKILL.
func (s *SentinelSet) KillSentinel(t testing.TB, i int) {
	t.Helper()
	s.mu.Lock()
	in := s.sentinels[i]
	s.mu.Unlock()
	in.stop(true)
}
