package emitter_test

import (
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/emitter"
)

// ExampleNew runs against a redis-server the test binary starts; the other
// examples need a Redis at localhost:6379 and servers using redisadapter, so
// they are compiled but not run (no Output comment).

// A job that notifies every connected client, then exits. Here a raw
// subscriber stands in for the servers to show what reaches Redis.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: exampleRedis}) // e.g. "localhost:6379"
	defer rdb.Close()

	sub := rdb.PSubscribe(context.Background(), "socket.io#*")
	defer sub.Close()
	if _, err := sub.Receive(context.Background()); err != nil {
		log.Fatal(err)
	}

	e := emitter.New(rdb)
	if err := e.To("room1").Emit("deploy", map[string]any{"version": "1.2.3"}); err != nil {
		log.Fatal(err)
	}
	msg, err := sub.ReceiveMessage(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.Channel)
	// Output: socket.io#/#room1#
}

// Servers using redisadapter.NewSharded (or Node's createShardedAdapter)
// need the sharded format, and the servers' subscription mode.
func ExampleNew_sharded() {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"localhost:7000", "localhost:7001"}})
	defer rdb.Close()

	e := emitter.New(rdb,
		emitter.WithKey("myapp"),
		emitter.WithSharded(true),
		emitter.WithSubscriptionMode(emitter.DynamicMode))
	if err := e.To("room1").Emit("news", "hello"); err != nil {
		log.Fatal(err)
	}
}

func ExampleEmitter_To() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	e := emitter.New(rdb)

	// Clients in room1 or room2 (each once), except those in muted.
	if err := e.To("room1", "room2").Except("muted").Emit("news", "hello", 42); err != nil {
		log.Print(err)
	}
	// Operators are immutable: keep one and reuse it from any goroutine.
	alerts := e.Of("/admin").To("ops").Volatile()
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = alerts.Emit("tick", i)
		}()
	}
	wg.Wait()
}

func ExampleEmitter_Of() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	admin := emitter.New(rdb).Of("admin") // namespace "/admin"
	_ = admin.Emit("stats", map[string]int{"users": 12})
}

func ExampleEmitter_EmitContext() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	e := emitter.New(rdb)

	// Binary arguments reach the clients as binary.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := e.EmitContext(ctx, "image", []byte{0x89, 0x50, 0x4e, 0x47}); err != nil {
		log.Printf("not sent: %v", err)
	}
}

func ExampleEmitter_SocketsJoin() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	e := emitter.New(rdb)

	// Every socket in room1, on every server, joins room2 and room3.
	_ = e.In("room1").SocketsJoin("room2", "room3")
	// A single socket (a socket id is a room) leaves room2.
	_ = e.In("Xk3vQ9mZ2pL7aB1cAAAB").SocketsLeave("room2")
	// Disconnect the sockets of room3 and close their connections.
	_ = e.In("room3").DisconnectSockets(true)
}

func ExampleEmitter_ServerSideEmit() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	e := emitter.New(rdb)

	// Runs io.On("reload-config", func(args ...any) {...}) on every server.
	if err := e.ServerSideEmit("reload-config", "feature-x", true); err != nil {
		log.Print(err)
	}
}

// A cron job that says when nobody heard it: EmitReach returns how many
// servers Redis delivered the event to. 0 means a wrong prefix or
// namespace, or no server running. Here a raw pattern subscription stands
// in for one server.
func ExampleEmitter_EmitReach() {
	rdb := redis.NewClient(&redis.Options{Addr: exampleRedis}) // e.g. "localhost:6379"
	defer rdb.Close()
	e := emitter.New(rdb, emitter.WithKey("reach-example")).To("lobby")

	report := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := e.EmitReach(ctx, "announcement", "maintenance at 10:00")
		switch {
		case err != nil:
			fmt.Println("not sent:", err)
		case n == 0:
			fmt.Println("reached 0 servers: check the prefix, the namespace and that servers run")
		default:
			fmt.Println("reached", n, "server(s)")
		}
	}
	report()

	server := rdb.PSubscribe(context.Background(), "reach-example#/#*") // what a server subscribes
	defer server.Close()
	if _, err := server.Receive(context.Background()); err != nil {
		log.Fatal(err)
	}
	report()
	// Output:
	// reached 0 servers: check the prefix, the namespace and that servers run
	// reached 1 server(s)
}
