package redisadapter_test

import (
	"context"
	"expvar"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/redisadapter"
)

// Every server of the deployment uses the same Redis and the same adapter
// options; each one serves its own clients. Here two servers share one
// Redis: each counts the other.
func ExampleNew() {
	addr := os.Getenv("REDIS_ADDR") // where your Redis listens
	if addr == "" {
		addr = "localhost:6379"
	}
	newServer := func() *socket.Server {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		opts := socket.DefaultServerOptions()
		opts.SetAdapter(redisadapter.New(rdb, redisadapter.WithRequestsTimeout(3*time.Second)))
		return socket.NewServer(nil, opts) // serve it with io.ServeHandler(nil)
	}
	io1, io2 := newServer(), newServer()
	defer io1.Close(nil)
	defer io2.Close(nil)

	// Reaches the clients in room1 on every server.
	io1.To("room1").Emit("news", "hello")

	// Sockets of every server (none connected here).
	io1.FetchSockets()(func(sockets []*socket.RemoteSocket, err error) {
		fmt.Println("sockets:", len(sockets), "error:", err)
	})
	fmt.Println("servers:", io1.Of("/", nil).Adapter().ServerCount())
	// Output:
	// sockets: 0 error: <nil>
	// servers: 2
}

// The sharded adapter needs Redis 7. With a Redis Cluster
// (redis.NewClusterClient), each message only travels to the shard that
// owns its channel; a single Redis 7 node works too.
func ExampleNewSharded() {
	addr := os.Getenv("REDIS_ADDR") // where your Redis 7 listens
	if addr == "" {
		addr = "localhost:6379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()

	opts := socket.DefaultServerOptions()
	opts.SetAdapter(redisadapter.NewSharded(rdb, redisadapter.WithSubscriptionMode(redisadapter.DynamicMode)))
	io := socket.NewServer(nil, opts)
	defer io.Close(nil)

	io.To("room1").Emit("news", "hello") // published on socket.io#/#room1#
	fmt.Println("servers:", io.Of("/", nil).Adapter().ServerCount())
	// Output: servers: 1
}

// Publish the adapter's counters with expvar, and use Healthy as a
// readiness probe. The adapter connects when the server creates its first
// namespace.
func ExampleBuilder_Stats() {
	addr := os.Getenv("REDIS_ADDR") // where your Redis listens
	if addr == "" {
		addr = "localhost:6379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()

	adapter := redisadapter.New(rdb)
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(adapter)
	io := socket.NewServer(nil, opts)
	defer io.Close(nil)
	expvar.Publish("sioredis", expvar.Func(func() any { return adapter.Stats() }))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := adapter.WaitHealthy(ctx); err != nil {
		fmt.Println("Redis unreachable:", err)
		return
	}
	fmt.Println("healthy:", adapter.Healthy(), "subscriptions:", adapter.Stats().Subscriptions)
	// Output: healthy: true subscriptions: 5
}

// AllRooms lists the rooms of every server (classic adapter).
func ExampleAdapter_AllRooms() {
	addr := os.Getenv("REDIS_ADDR") // where your Redis listens
	if addr == "" {
		addr = "localhost:6379"
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	opts := socket.DefaultServerOptions()
	opts.SetAdapter(redisadapter.New(rdb))
	io := socket.NewServer(nil, opts)
	defer io.Close(nil)

	a := io.Of("/", nil).Adapter().(*redisadapter.Adapter)
	rooms, err := a.AllRooms(context.Background())
	fmt.Println(rooms.Len(), "rooms, error:", err)
	// Output: 0 rooms, error: <nil>
}
