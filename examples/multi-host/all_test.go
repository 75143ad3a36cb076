package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/cli"
	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/internal/siotest"
)

// TestAll runs "go run ./examples/multi-host" as a user would (the "all"
// command: a private redis-server, 3 host processes, the Go sticky load
// balancer, the cron job as a short-lived process every second), uses it
// from socket.io clients and from a real browser, then stops it and checks
// that nothing it started is left behind.
func TestAll(t *testing.T) {
	if os.Getenv("REDIS_URL") == "" {
		requireTool(t, "redis-server", "redis-server")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newLogBuffer(t, "multi-host all")
	ready := make(chan cli.Topology, 1)
	done := make(chan error, 1)
	args := []string{"-listen", "127.0.0.1:0", "-host-port", "0", "-every", "1s", "-restart-after", "6s", "-key", randomKey("mh-all-")}
	go func() {
		done <- cli.RunAll(ctx, args, out, out, &cli.AllOptions{
			Env:     childEnviron(),
			OnReady: func(top cli.Topology) { ready <- top },
		})
	}()
	var top cli.Topology
	select {
	case top = <-ready:
	case err := <-done:
		t.Fatalf("all exited early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("all not ready after 30s")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("all: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("all did not stop within 20s")
		}
	}
	defer stop()

	t.Run("socket.io clients", func(t *testing.T) { testAllClients(t, top) })
	t.Run("browser", func(t *testing.T) { testBrowser(t, top) })

	stop()
	for _, pid := range top.PIDs {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Ctrl-C (kill -0: %v)", pid, err)
		}
	}
	if top.RedisDir != "" {
		if _, err := os.Stat(top.RedisDir); !os.IsNotExist(err) {
			t.Errorf("redis directory %s not removed: %v", top.RedisDir, err)
		}
	}
}

// testAllClients: WebSocket clients without a cookie are spread round robin
// over the 3 hosts by the Go balancer, chat crosses hosts, the periodic
// cron job reaches everybody, and the count is right.
func testAllClients(t *testing.T, top cli.Topology) {
	evs := []string{events.Welcome, events.Chat, events.Announcement, events.Presence}
	var cs []*siotest.Client
	var hostOf []string
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		c := siotest.Dial(t, top.URL, "/", url.Values{"name": {fmt.Sprint("user-", i)}}, evs...)
		h := welcomeHost(t, c)
		seen[h] = true
		cs, hostOf = append(cs, c), append(hostOf, h)
	}
	if len(seen) != 3 {
		t.Fatalf("3 clients without cookies landed on %v, want 3 hosts", seen)
	}
	object(t, cs[0].Call(events.Chat, "hi all"))
	for _, c := range cs {
		expectChat(t, c, "hi all", hostOf[0])
	}
	for _, c := range cs {
		expectAnnouncement(t, c, "")
	}
	expectOnline(t, cs[2], 3, 3)
}
