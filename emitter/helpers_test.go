package emitter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/engine.io/v2/types"

	"github.com/sioredis/sioredis/internal/siotest"
)

// vectorsFile holds the messages recorded from the real Node packages (one
// copy for the repository; interop/node/record-vectors.js re-records it).
// Section V6 is the emitter; V7/V10/V10b are the sharded adapter, whose bytes
// a sharded emitter reproduces with the uid replaced by "emitter".
const vectorsFile = "../internal/protocol/testdata/node-vectors.json"

// vector is one recorded Node message.
type vector struct {
	Name    string          `json:"name"`
	Command string          `json:"command"`
	Channel string          `json:"channel"`
	Format  string          `json:"format"`
	Hex     string          `json:"hex"`     // msgpack: the exact payload
	JSON    json.RawMessage `json:"json"`    // json: the payload, pretty-printed
	Payload string          `json:"payload"` // json: the exact payload text (JSON compacted)
}

func loadVectors(t testing.TB) map[string]vector {
	t.Helper()
	raw, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]vector, len(doc.Vectors))
	for _, v := range doc.Vectors {
		if v.Format == "json" {
			// The file keeps Node's key order, so compacting restores the
			// bytes Node published.
			var buf bytes.Buffer
			if err := json.Compact(&buf, v.JSON); err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			v.Payload = buf.String()
		}
		out[v.Name] = v
	}
	return out
}

// capture records what is published on a Redis server, through a raw
// go-redis subscriber.
type capture struct {
	ps *redis.PubSub
	ch <-chan *redis.Message
}

// psubscribeAll captures every classic PUBLISH (PSUBSCRIBE '*').
func psubscribeAll(t testing.TB, rdb *redis.Client) *capture {
	t.Helper()
	return startCapture(t, rdb.PSubscribe(ctx(t), "*"))
}

// ssubscribe captures SPUBLISH on the given channels.
func ssubscribe(t testing.TB, rdb *redis.Client, channels ...string) *capture {
	t.Helper()
	return startCapture(t, rdb.SSubscribe(ctx(t), channels...))
}

func startCapture(t testing.TB, ps *redis.PubSub) *capture {
	t.Helper()
	// Wait for the subscription confirmations so nothing is missed.
	if _, err := ps.Receive(ctx(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	return &capture{ps: ps, ch: ps.Channel(redis.WithChannelSize(4096))}
}

func (c *capture) next(t testing.TB) *redis.Message {
	t.Helper()
	select {
	case m := <-c.ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("nothing published")
		return nil
	}
}

func (c *capture) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-c.ch:
		t.Fatalf("unexpected message on %s: %q", m.Channel, m.Payload)
	case <-time.After(d):
	}
}

func ctx(t testing.TB) context.Context { return siotest.Ctx(t) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func bytesOf(v any) []byte {
	switch b := v.(type) {
	case []byte:
		return b
	case types.BufferInterface:
		return b.Bytes()
	}
	return nil
}
