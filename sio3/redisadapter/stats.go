package redisadapter

import "github.com/sioredis/sioredis"

// Stats is a snapshot of a builder's counters ([Builder.Stats]); see
// [sioredis.Stats] for what each counts.
type Stats = sioredis.Stats
