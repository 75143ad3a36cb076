package emitter_test

import (
	"encoding/hex"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/redistest"
)

// checkVector compares a captured message with a recorded Node message,
// byte for byte.
func checkVector(t *testing.T, v vector, channel, payload string) {
	t.Helper()
	if channel != v.Channel {
		t.Errorf("%s: channel %q, want %q", v.Name, channel, v.Channel)
	}
	switch v.Format {
	case "msgpack":
		if got := hex.EncodeToString([]byte(payload)); got != v.Hex {
			t.Errorf("%s: payload\n got %s\nwant %s", v.Name, got, v.Hex)
		}
	case "json":
		if payload != v.Payload {
			t.Errorf("%s: payload\n got %s\nwant %s", v.Name, payload, v.Payload)
		}
	default:
		t.Fatalf("%s: unexpected format %q", v.Name, v.Format)
	}
}

// TestGoldenNodeEmitter reproduces the messages Node's
// @socket.io/redis-emitter 5.1 publishes (node-vectors.json section V6, see
// docs/protocol.md §8), captured from a real
// Redis with PSUBSCRIBE '*'.
func TestGoldenNodeEmitter(t *testing.T) {
	t.Parallel()
	vecs := loadVectors(t)
	srv := redistest.Start(t)
	c := psubscribeAll(t, srv.Client(t))
	e := emitter.New(srv.Client(t))

	must(t, e.To("room1").Volatile().Emit("news", []byte{1, 2, 3}, map[string]any{"n": 1.5}))
	must(t, e.Of("admin").Except("room2").Emit("x"))
	must(t, e.In("room1").SocketsJoin("room9"))
	must(t, e.ServerSideEmit("hi", 1))
	for _, name := range []string{"V6.1", "V6.2", "V6.3", "V6.4"} {
		v := vecs[name]
		if v.Command != "PUBLISH" {
			t.Fatalf("%s: command %s", name, v.Command)
		}
		m := c.next(t)
		checkVector(t, v, m.Channel, m.Payload)
	}
	c.none(t, 50*time.Millisecond)
	// Publishing is synchronous: nothing of the emitter outlives the calls.
	// (Only the emitter's frames: siotest.AssertNoGoroutines also looks at
	// the core's, which the servers of the tests running in parallel have.)
	assertNoEmitterGoroutines(t)
}

// assertNoEmitterGoroutines fails when a goroutine other than a test's runs
// emitter code, after letting stragglers end for up to 2 s.
func assertNoEmitterGoroutines(t *testing.T) {
	t.Helper()
	var stacks string
	for i := 0; i < 100; i++ {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		leaked := false
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "sioredis/emitter.") && !strings.Contains(g, "_test.") && !strings.Contains(g, "testing.tRunner") {
				leaked = true
				break
			}
		}
		if !leaked {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("emitter goroutines leaked:\n%s", stacks)
}

// TestGoldenClassicMore pins the classic forms the Node vectors do not
// cover, written from the emitter 5.1 source (docs/protocol.md §4).
func TestGoldenClassicMore(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c := psubscribeAll(t, srv.Client(t))
	e := emitter.New(srv.Client(t), emitter.WithKey("k"))

	type want struct{ channel, payload string }
	steps := []struct {
		run  func() error
		want want
	}{
		{func() error { return e.In("a", "b").Except("c", "c").SocketsLeave("a") },
			want{"k-request#/#", `{"type":3,"opts":{"rooms":["a","b"],"except":["c"]},"rooms":["a"]}`}},
		{func() error { return e.To("r").Of("/admin").DisconnectSockets(true) },
			want{"k-request#/admin#", `{"type":4,"opts":{"rooms":["r"],"except":[]},"close":true}`}},
		{func() error { return e.DisconnectSockets(false) },
			want{"k-request#/#", `{"type":4,"opts":{"rooms":[],"except":[]},"close":false}`}},
		{func() error {
			return e.ServerSideEmit("s", struct {
				Name string `json:"name"`
			}{"bob"})
		}, want{"k-request#/#", `{"uid":"emitter","type":6,"data":["s",{"name":"bob"}]}`}},
	}
	for i, s := range steps {
		must(t, s.run())
		m := c.next(t)
		if m.Channel != s.want.channel || m.Payload != s.want.payload {
			t.Errorf("step %d: %s %s\nwant %s %s", i, m.Channel, m.Payload, s.want.channel, s.want.payload)
		}
	}

	// Several rooms: namespace channel; flags volatile and compress. To/In
	// dedupe like Node's Set.
	must(t, e.To("a").In("b", "a").Volatile().Compress(false).Emit("m", 1))
	m := c.next(t)
	wantHex := "93a7656d697474657283a47479706502a46461746192a16d01a36e7370a12f" +
		"83a5726f6f6d7392a161a162a5666c61677382a8766f6c6174696c65c3a8636f6d7072657373c2a665786365707490"
	if m.Channel != "k#/#" || hex.EncodeToString([]byte(m.Payload)) != wantHex {
		t.Errorf("multi-room: %s %x\nwant k#/# %s", m.Channel, m.Payload, wantHex)
	}
}

// TestGoldenSharded checks the sharded format against the Node
// ClusterAdapter vectors (V7, V10, V10b): the bytes must be Node's with the
// sender uid replaced by "emitter", on the channel Node's adapter would pick
// in each subscription mode. Captured from a standalone Redis 7 with
// SSUBSCRIBE.
func TestGoldenSharded(t *testing.T) {
	t.Parallel()
	vecs := loadVectors(t)
	srv := redistest.Start(t)
	const sid = "Xk3vQ9mZ2pL7aB1cAAAB"
	const sidB = "BBBBBBBBBBBBBBBBBBBB"
	c := ssubscribe(t, srv.Client(t), "socket.io#/#", "socket.io#/#room1#", "socket.io#/#"+sid+"#",
		"socket.io#/#"+sidB+"#", "socket.io#/admin#")
	dyn := emitter.New(srv.Client(t), emitter.WithSharded(true))
	static := emitter.New(srv.Client(t), emitter.WithSharded(true), emitter.WithSubscriptionMode(emitter.StaticMode))
	private := emitter.New(srv.Client(t), emitter.WithSharded(true), emitter.WithSubscriptionMode(emitter.DynamicPrivateMode))

	asEmitter := func(v vector) vector {
		for _, uid := range []string{"a1a1a1a1a1a1a1a1", "e5e5e5e5e5e5e5e5", "f6f6f6f6f6f6f6f6"} {
			v.Payload = strings.Replace(v.Payload, `"uid":"`+uid+`"`, `"uid":"emitter"`, 1)
			v.Hex = strings.Replace(v.Hex, "a3756964b0"+hex.EncodeToString([]byte(uid)),
				"a3756964a7"+hex.EncodeToString([]byte("emitter")), 1)
		}
		return v
	}
	steps := []struct {
		vec string
		run func() error
	}{
		{"V7.1", func() error { return dyn.To("room1").Emit("hello", "world") }},
		{"V7.2", func() error { return dyn.To("room1").Except("room2").Emit("hello2") }},
		{"V7.3", func() error { return dyn.To(sid).Emit("private") }},
		{"V7.4", func() error { return dyn.Emit("bin", []byte{1, 2, 3}) }},
		{"V10.4", func() error { return dyn.In("room1").SocketsLeave("room1") }},
		{"V10.5", func() error { return dyn.DisconnectSockets(false) }},
		{"V10b.1", func() error { return static.To("room1").Emit("s1") }},
		{"V10b.2", func() error { return private.To("room1").Emit("p1") }},
		{"V10b.3", func() error { return private.To(sidB).Emit("p2") }},
	}
	for _, s := range steps {
		v, ok := vecs[s.vec]
		if !ok || v.Command != "SPUBLISH" {
			t.Fatalf("vector %s missing", s.vec)
		}
		must(t, s.run())
		m := c.next(t)
		checkVector(t, asEmitter(v), m.Channel, m.Payload)
	}

	// Types the vectors do not cover with this shape.
	more := []struct {
		run              func() error
		channel, payload string
	}{
		{func() error { return dyn.In("room1").SocketsJoin("room9") }, "socket.io#/#",
			`{"type":4,"data":{"opts":{"rooms":["room1"],"except":[],"flags":{}},"rooms":["room9"]},"uid":"emitter","nsp":"/"}`},
		{func() error { return dyn.ServerSideEmit("hi", 1) }, "socket.io#/#",
			`{"type":9,"data":{"packet":["hi",1]},"uid":"emitter","nsp":"/"}`},
		{func() error { return dyn.Of("admin").To("a", "b").Volatile().Emit("m") }, "socket.io#/admin#",
			`{"type":3,"data":{"packet":{"type":2,"data":["m"]},"opts":{"rooms":["a","b"],"except":[],"flags":{"volatile":true}}},"uid":"emitter","nsp":"/admin"}`},
		{func() error { return static.To(sid).Emit("x") }, "socket.io#/#",
			`{"type":3,"data":{"packet":{"type":2,"data":["x"]},"opts":{"rooms":["` + sid + `"],"except":[],"flags":{}}},"uid":"emitter","nsp":"/"}`},
	}
	for i, s := range more {
		must(t, s.run())
		m := c.next(t)
		if m.Channel != s.channel || m.Payload != s.payload {
			t.Errorf("step %d: %s %s\nwant %s %s", i, m.Channel, m.Payload, s.channel, s.payload)
		}
	}
	c.none(t, 50*time.Millisecond)
}
