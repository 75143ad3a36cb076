package benchserver

import (
	"fmt"
	"os"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Key is the channel prefix of every bench adapter, Node's default.
const Key = "socket.io"

// Redis returns the client of REDIS_URL, nil when it is empty, unset or
// "none" (socket.io's in-memory adapter, single node), and the adapter's
// per-namespace inbox bound: SIOREDIS_INBOX, else the library default
// (65536), which holds S2's 5000-message burst.
func Redis() (*redis.Client, int, error) {
	u := os.Getenv("REDIS_URL")
	if u == "" || u == "none" {
		return nil, 0, nil
	}
	ropts, err := redis.ParseURL(u)
	if err != nil {
		return nil, 0, fmt.Errorf("REDIS_URL: %w", err)
	}
	inbox := 65536
	if v := os.Getenv("SIOREDIS_INBOX"); v != "" {
		if inbox, err = strconv.Atoi(v); err != nil || inbox <= 0 {
			return nil, 0, fmt.Errorf("SIOREDIS_INBOX=%q: want a positive integer", v)
		}
	}
	return redis.NewClient(ropts), inbox, nil
}
