package redisadapter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/rawclient"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
)

// TestRecoveryRefusedByMiddleware: socket.io runs the middlewares for a
// restored socket too. One that refuses it must not leave the namespace's
// live delivery held (it was, until the hold's 10 s bound).
func TestRecoveryRefusedByMiddleware(t *testing.T) {
	srv := redistest.Start(t)
	nodes, builders := recoveryNodes(t, srv, 2, 5*time.Second)
	a, b := nodes[0], nodes[1]
	_ = b.IO.Use(func(s *socket.Socket, next func(*socket.ExtendedError)) {
		if s.Recovered() {
			next(socket.NewExtendedError("no recovery here", nil))
			return
		}
		next(nil)
	})
	other := siotest.DialRaw(t, b.URL, "/", nil, true)

	rc := siotest.DialRaw(t, a.URL, "/", nil, true)
	rc.Call("join", "r")
	a.IO.To("r").Emit("tick", 0)
	ticks(t, rc.ExpectExactly("tick", 1), 0)
	rc.Drop()
	admin := srv.Client(t)
	siotest.Eventually(t, "the session in Redis", func() bool {
		keys, err := admin.Keys(siotest.Ctx(t), "sio:session:*").Result()
		return builders[0].Stats().SessionsPersisted == 1 && err == nil && len(keys) == 1
	})

	refused, err := rawclient.DialOnce(t, b.URL, "/", nil, rawclient.Options{Auth: map[string]any{"pid": rc.PID, "offset": rc.LastOffset()}, Timeout: 20 * time.Second}, false)
	if err == nil {
		refused.Close()
		t.Fatal("the middleware did not refuse the restored socket")
	}
	if !strings.Contains(err.Error(), "connect error") {
		t.Fatalf("the dial failed before the middleware: %v", err)
	}
	if s := builders[1].Stats(); s.SessionsRestored != 1 {
		t.Fatalf("SessionsRestored = %d (%v)", s.SessionsRestored, err)
	}
	start := time.Now()
	a.IO.Emit("live", 1)
	for len(other.Frames("live")) == 0 {
		if time.Since(start) > 3*time.Second {
			t.Fatal("live delivery on b still held 3 s after the refusal")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("live broadcast after the refusal reached b's client in %v", time.Since(start))
}
