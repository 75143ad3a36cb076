package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/cli"
	"github.com/sioredis/sioredis/internal/redistest"
)

// syncBuffer is a bytes.Buffer for several writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAllKeepsRedisPasswordOffCommandLines: "all" with a Redis URL holding
// a password starts hosts (and cron jobs) that connect with it, yet no
// process has it on its command line (which every user of the machine can
// read) and nothing prints it. Redis's default user has no password here:
// it accepts any (AUTH with a user name), so the password is only a marker.
func TestAllKeepsRedisPasswordOffCommandLines(t *testing.T) {
	const secret = "s3cret-pw-4711"
	rs := redistest.Start(t)
	t.Setenv("REDIS_URL", fmt.Sprintf("redis://default:%s@%s", secret, rs.Options().Addr))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	ready := make(chan cli.Topology, 1)
	done := make(chan error, 1)
	args := []string{"-listen", "127.0.0.1:0", "-host-port", "0", "-hosts", "2", "-every", "200ms", "-key", randomKey("mh-secret-")}
	go func() {
		done <- cli.RunAll(ctx, args, &out, &out, &cli.AllOptions{
			Env:     childEnviron(),
			OnReady: func(top cli.Topology) { ready <- top },
		})
	}()
	var top cli.Topology
	select {
	case top = <-ready: // the hosts are healthy: subscribed with the password
	case err := <-done:
		t.Fatalf("all exited early: %v\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("all not ready after 30s\n%s", out.String())
	}
	// Look at every process a few times, cron jobs included.
	for range 5 {
		for _, pid := range top.PIDs {
			cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if err != nil {
				t.Fatalf("process %d: %v", pid, err)
			}
			if bytes.Contains(cmdline, []byte(secret)) {
				t.Fatalf("process %d has the password on its command line: %q", pid, cmdline)
			}
		}
		all, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, f := range all {
			if cmdline, err := os.ReadFile(f); err == nil && bytes.Contains(cmdline, []byte(secret)) {
				t.Fatalf("%s has the password: %q", f, cmdline)
			}
		}
		time.Sleep(150 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("all: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("all did not stop within 20s")
	}
	if strings.Contains(out.String(), secret) {
		t.Fatalf("the output shows the password:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "***@") {
		t.Errorf("the output does not say which Redis it uses (redacted):\n%s", out.String())
	}
}
