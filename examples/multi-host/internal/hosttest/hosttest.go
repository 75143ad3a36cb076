// Package hosttest runs chat hosts in a test process.
package hosttest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/chat"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/redisadapter"
)

// Start runs a chat host on a loopback port, with Redis channels under key,
// logging to logs (nil: discarded), and returns its URL once it is
// subscribed. The host is closed when the test ends.
func Start(t testing.TB, rs *redistest.Server, name, key string, logs io.Writer) string {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	h, err := chat.New(chat.Config{
		Name:   name,
		Redis:  rs.Client(t),
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		// Short, so that a host closing under a pending count waits less.
		PresenceTimeout: time.Second,
		AdapterOptions:  []redisadapter.Option{redisadapter.WithKey(key)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		h.Close()
		_ = srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.WaitReady(ctx); err != nil {
		t.Fatalf("%s not ready: %v", name, err)
	}
	return "http://" + ln.Addr().String()
}
