package redisadapter_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/redisadapter"
)

// Redis over TLS with an ACL user of its own (see the README's Security
// section for the rules): a rediss:// URL, the CA that signed the Redis
// certificate, and the password from the environment, never from a flag.
// Not run: it needs a TLS-enabled Redis (TestTLS runs the same set-up).
func Example_tls() {
	opts, err := redis.ParseURL("rediss://sioredis@redis.internal:6380/0")
	if err != nil {
		panic(err)
	}
	opts.Password = os.Getenv("REDIS_PASSWORD")
	ca, err := os.ReadFile("/etc/redis/ca.crt")
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	opts.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "redis.internal", MinVersion: tls.VersionTLS12}
	rdb := redis.NewClient(opts)

	so := socket.DefaultServerOptions()
	so.SetAdapter(redisadapter.New(rdb))
	io := socket.NewServer(nil, so)
	defer io.Close(nil)
}

// What a server publishes of its sockets' handshakes in fetchSockets
// answers: by default credentials headers are redacted; a filter of one's
// own can also drop query tokens and the auth payload. WithoutHandshakes
// publishes none of it, for servers whose peers only count or list
// sockets.
func ExampleWithHandshakeFilter() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	b := redisadapter.New(rdb, redisadapter.WithHandshakeFilter(func(h *socket.Handshake) {
		redisadapter.RedactCredentials(h) // Cookie, Authorization, Proxy-Authorization
		delete(h.Query, "token")
		h.Auth = nil
		if strings.Contains(h.Url, "token=") {
			h.Url = ""
		}
	}))
	_ = b
	_ = redisadapter.New(rdb, redisadapter.WithoutHandshakes())
}
