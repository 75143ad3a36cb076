package redisadapter_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// The Go-native cluster calls take a context. When not every server
// answered in time (or one the call waited for died), they return what
// arrived with a *PartialError naming the servers that did not answer.
func ExampleAdapter_FetchSocketsContext() {
	addr := os.Getenv("REDIS_ADDR") // where your Redis listens
	if addr == "" {
		addr = "localhost:6379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(redisadapter.New(rdb, redisadapter.WithKey("example-calls")))
	io := socket.NewServer(nil, opts)
	defer io.Close(nil)

	a := io.Of("/", nil).Adapter().(*redisadapter.Adapter)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sockets, err := a.FetchSocketsContext(ctx, nil)
	var pe *redisadapter.PartialError
	if errors.As(err, &pe) {
		fmt.Println(pe.Answered, "of", pe.Expected, "servers answered; missing", pe.Missing)
	}
	fmt.Println("sockets:", len(sockets), "error:", err)
	// Output: sockets: 0 error: <nil>
}

// A member listener hears the other Go servers join and leave (and die:
// no heartbeat within WithHeartbeatTimeout).
func ExampleWithMemberListener() {
	addr := os.Getenv("REDIS_ADDR") // where your Redis listens
	if addr == "" {
		addr = "localhost:6379"
	}
	events := make(chan redisadapter.MemberEvent, 16)
	newServer := func(opts ...redisadapter.Option) (*socket.Server, *redisadapter.Builder) {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		b := redisadapter.New(rdb, append(opts, redisadapter.WithKey("example-members"))...)
		o := socket.DefaultServerOptions()
		o.SetAdapter(b)
		return socket.NewServer(nil, o), b
	}
	io1, b1 := newServer(redisadapter.WithMemberListener(func(ev redisadapter.MemberEvent) { events <- ev }))
	defer io1.Close(nil)
	io2, _ := newServer()
	uid2 := io2.Of("/", nil).Adapter().(*redisadapter.Adapter).Uid()

	next := func() string {
		for {
			select {
			case ev := <-events:
				if ev.Member.UID == uid2 {
					return ev.Kind.String()
				}
			case <-time.After(10 * time.Second):
				return "nothing"
			}
		}
	}
	fmt.Println(next(), "- members:", len(b1.Members()))
	io2.Close(nil)
	fmt.Println(next(), "- members:", len(b1.Members()))
	// Output:
	// joined - members: 1
	// left - members: 0
}
