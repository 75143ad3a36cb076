package redisadapter_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// TestFlagsOnTheWire reads what a v3 server publishes: socket.io v3 keeps
// an explicit Compress(false) (a *bool), which must reach Node as
// compress: false, and flag timeouts travel in milliseconds, as Node reads
// them (not as Go's nanoseconds).
func TestFlagsOnTheWire(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(srv.Options())
	n := siotest.StartNode(t, "n", rdb, redisadapter.New(rdb))
	// Broadcasts travel on the namespace channel, broadcasts with acks as
	// requests on the request channel.
	sub := srv.Client(t).Subscribe(siotest.Ctx(t), "socket.io#/#", "socket.io-request#/#")
	defer sub.Close()
	for range 2 {
		if _, err := sub.Receive(siotest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	flags := func() map[string]any {
		t.Helper()
		msg, err := sub.ReceiveMessage(siotest.Ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		var opts map[string]any
		if msg.Channel == "socket.io-request#/#" {
			var r map[string]any
			if err := msgpack.Unmarshal([]byte(msg.Payload), &r); err != nil {
				t.Fatalf("request %q: %v", msg.Payload, err)
			}
			opts, _ = r["opts"].(map[string]any)
		} else {
			var m []any // [uid, packet, opts]
			if err := msgpack.Unmarshal([]byte(msg.Payload), &m); err != nil || len(m) != 3 {
				t.Fatalf("message %q: %v", msg.Payload, err)
			}
			opts, _ = m[2].(map[string]any)
		}
		f, _ := opts["flags"].(map[string]any)
		return f
	}
	asInt := func(v any) int64 {
		switch x := v.(type) {
		case int8:
			return int64(x)
		case int16:
			return int64(x)
		case int32:
			return int64(x)
		case int64:
			return x
		case uint8:
			return int64(x)
		case uint16:
			return int64(x)
		case uint32:
			return int64(x)
		case uint64:
			return int64(x)
		case float64:
			return int64(x)
		}
		return -1
	}

	n.IO.Compress(false).Emit("x", 1)
	if f := flags(); f["compress"] != false {
		t.Fatalf("Compress(false) published as %v", f)
	}
	n.IO.Compress(true).Emit("x", 2)
	if f := flags(); f["compress"] != true {
		t.Fatalf("Compress(true) published as %v", f)
	}
	done := make(chan struct{})
	n.IO.Timeout(1500*time.Millisecond).EmitWithAck("x", 3)(func([]any, error) { close(done) })
	if f := flags(); asInt(f["timeout"]) != 1500 {
		t.Fatalf("Timeout(1.5s) published as %v (%T), want 1500 ms", f["timeout"], f["timeout"])
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the broadcast with ack did not complete")
	}
}
