package redisadapter_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
)

// aclUser creates (or resets) Redis user name with exactly rules, on top
// of "on >pw resetkeys resetchannels -@all +ping +hello +auth", and
// removes it when the test ends.
func aclUser(t *testing.T, srv *redistest.Server, name string, rules ...string) {
	t.Helper()
	admin := srv.Client(t)
	args := []any{"ACL", "SETUSER", name, "reset", "on", ">pw-" + name, "resetkeys", "resetchannels", "-@all", "+ping", "+hello", "+auth"}
	for _, r := range rules {
		args = append(args, r)
	}
	if err := admin.Do(siotest.Ctx(t), args...).Err(); err != nil {
		t.Fatalf("ACL SETUSER %s %v: %v", name, rules, err)
	}
	t.Cleanup(func() { _ = srv.Client(t).Do(siotest.Ctx(t), "ACL", "DELUSER", name).Err() })
}

// aclClient is a client of a new user with rules (see aclUser).
func aclClient(t *testing.T, srv *redistest.Server, name string, rules ...string) *redis.Client {
	t.Helper()
	aclUser(t, srv, name, rules...)
	return aclOptionsClient(t, srv, name)
}

func aclOptionsClient(t *testing.T, srv *redistest.Server, name string) *redis.Client {
	o := srv.Options()
	o.Username, o.Password = name, "pw-"+name
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
