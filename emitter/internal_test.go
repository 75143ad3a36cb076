package emitter

import (
	"fmt"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestUnion(t *testing.T) {
	a := []string{"a", "b"}
	got := union(a, []string{"b", "c", "a", "c"})
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("small: %v", got)
	}
	var many []string
	for i := 0; i < 40; i++ {
		many = append(many, fmt.Sprint("r", i%20))
	}
	got = union(a, many)
	if len(got) != 22 || got[0] != "a" || got[2] != "r0" || got[21] != "r19" {
		t.Fatalf("large: %v", got)
	}
	if !slices.Equal(a, []string{"a", "b"}) {
		t.Fatal("input modified")
	}
}

func TestChannels(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	const nodeSid = "Xk3vQ9mZ2pL7aB1cAAAB"   // 20 characters
	const goSid = "abcdefghijklmnopqrstuvwx" // 24 characters
	cases := []struct {
		opts        []Option
		nsp         string
		rooms       []string
		bcast, main string
	}{
		{nil, "", nil, "socket.io#/#", "socket.io-request#/#"},
		{nil, "admin", []string{"r"}, "socket.io#/admin#r#", "socket.io-request#/admin#"},
		{nil, "/", []string{nodeSid}, "socket.io#/#" + nodeSid + "#", "socket.io-request#/#"},
		{[]Option{WithKey("k")}, "/", []string{"a", "b"}, "k#/#", "k-request#/#"},
		{[]Option{WithSharded(true)}, "/", nil, "socket.io#/#", "socket.io#/#"},
		{[]Option{WithSharded(true)}, "/", []string{"r"}, "socket.io#/#r#", "socket.io#/#"},
		{[]Option{WithSharded(true)}, "/", []string{nodeSid}, "socket.io#/#", "socket.io#/#"},
		{[]Option{WithSharded(true)}, "/", []string{goSid}, "socket.io#/#" + goSid + "#", "socket.io#/#"},
		{[]Option{WithSharded(true)}, "/", []string{"a", "b"}, "socket.io#/#", "socket.io#/#"},
		{[]Option{WithSharded(true), WithSubscriptionMode(StaticMode)}, "/", []string{"r"}, "socket.io#/#", "socket.io#/#"},
		{[]Option{WithSharded(true), WithSubscriptionMode(DynamicPrivateMode)}, "/", []string{nodeSid}, "socket.io#/#" + nodeSid + "#", "socket.io#/#"},
		{[]Option{WithSharded(true), WithSubscriptionMode("bogus")}, "/", []string{nodeSid}, "socket.io#/#", "socket.io#/#"},
	}
	for i, c := range cases {
		e := New(rdb, c.opts...).Of(c.nsp).To(c.rooms...).Except("x")
		if e.bcastChannel != c.bcast || e.mainChannel != c.main {
			t.Errorf("case %d: %q %q, want %q %q", i, e.bcastChannel, e.mainChannel, c.bcast, c.main)
		}
	}
	// Of after To keeps the rooms and recomputes the channels.
	if e := New(rdb).To("r").Of("/x"); e.bcastChannel != "socket.io#/x#r#" {
		t.Errorf("To then Of: %q", e.bcastChannel)
	}
}
