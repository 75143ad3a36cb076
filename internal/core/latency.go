package core

import (
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/sioredis/sioredis"
)

// latencyBuckets is the number of power-of-two microsecond buckets: the
// last one holds everything from about 18 minutes on.
const latencyBuckets = 31

// latency records durations without a lock: a count per power-of-two
// bucket of microseconds (bucket i holds durations below 2^i µs), the sum
// and the maximum. It backs the LatencySummary fields of Stats.
type latency struct {
	buckets [latencyBuckets]atomic.Uint64
	sum     atomic.Int64
	max     atomic.Int64
}

func (l *latency) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := bits.Len64(uint64(d / time.Microsecond))
	if i >= latencyBuckets {
		i = latencyBuckets - 1
	}
	l.buckets[i].Add(1)
	l.sum.Add(int64(d))
	for {
		m := l.max.Load()
		if int64(d) <= m || l.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

func (l *latency) summary() sioredis.LatencySummary {
	var counts [latencyBuckets]uint64
	var n uint64
	for i := range counts {
		counts[i] = l.buckets[i].Load()
		n += counts[i]
	}
	s := sioredis.LatencySummary{Count: n, Sum: time.Duration(l.sum.Load()), Max: time.Duration(l.max.Load())}
	if n == 0 {
		return s
	}
	quantile := func(q float64) time.Duration {
		rank := uint64(q*float64(n-1)) + 1
		var seen uint64
		for i, c := range counts {
			seen += c
			if seen >= rank {
				return min(time.Duration(uint64(1)<<i)*time.Microsecond, s.Max)
			}
		}
		return s.Max
	}
	s.P50, s.P99 = quantile(0.50), quantile(0.99)
	return s
}
