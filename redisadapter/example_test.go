package redisadapter_test

import (
	"context"
	"expvar"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/redisadapter"
)

// Every server of the deployment uses the same Redis and the same adapter
// options; each one serves its own clients. Here two servers share one
// Redis: each counts the other.
func ExampleNew() {
	newServer := func() *socket.Server {
		rdb := redis.NewClient(&redis.Options{Addr: exampleRedis}) // e.g. "localhost:6379"
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

// With Redis 7 Cluster, the sharded adapter sends each message only to the
// shard that owns its channel.
func ExampleNewSharded() {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"localhost:7000", "localhost:7001", "localhost:7002"}})

	opts := socket.DefaultServerOptions()
	opts.SetAdapter(redisadapter.NewSharded(rdb, redisadapter.WithSubscriptionMode(redisadapter.DynamicMode)))
	socket.NewServer(nil, opts)
}

// Publish the adapter's counters with expvar (a Prometheus or OpenTelemetry
// collector can read Stats the same way).
func ExampleBuilder_Stats() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	adapter := redisadapter.New(rdb)
	expvar.Publish("sioredis", expvar.Func(func() any { return adapter.Stats() }))

	// A readiness probe.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = adapter.WaitHealthy(ctx)
	fmt.Println(adapter.Healthy())
}

// AllRooms lists the rooms of every server (classic adapter).
func ExampleAdapter_AllRooms() {
	var io *socket.Server // a server using redisadapter.New
	if io == nil {
		return
	}
	a := io.Of("/", nil).Adapter().(*redisadapter.Adapter)
	rooms, err := a.AllRooms(context.Background())
	fmt.Println(rooms.Keys(), err)
}
