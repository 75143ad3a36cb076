package core

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// numSub returns the number of subscribers of channel, summed over every node
// of a Redis Cluster (PUBSUB NUMSUB only counts the node it runs on). With
// sharded it uses PUBSUB SHARDNUMSUB, where only the owner of the slot
// reports a non-zero count.
func numSub(ctx context.Context, rdb redis.UniversalClient, channel string, sharded bool) (int64, error) {
	one := func(ctx context.Context, c redis.Cmdable) (int64, error) {
		var m map[string]int64
		var err error
		if sharded {
			m, err = c.PubSubShardNumSub(ctx, channel).Result()
		} else {
			m, err = c.PubSubNumSub(ctx, channel).Result()
		}
		if err != nil {
			return 0, err
		}
		return m[channel], nil
	}
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		n, err := one(ctx, rdb)
		if err != nil {
			return 0, fmt.Errorf("sioredis: counting servers: %w", err)
		}
		return n, nil
	}
	var total atomic.Int64
	var mu sync.Mutex
	var firstErr error
	err := cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
		n, err := one(ctx, c)
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
			return nil
		}
		total.Add(n)
		return nil
	})
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return 0, fmt.Errorf("sioredis: counting servers: %w", err)
	}
	return total.Load(), nil
}
