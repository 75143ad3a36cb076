module github.com/sioredis/sioredis/extra/sioredisprom

go 1.26.0

require (
	github.com/prometheus/client_golang v1.25.0
	github.com/prometheus/common v0.74.0
	github.com/sioredis/sioredis v0.0.0-00010101000000-000000000000
)

replace github.com/sioredis/sioredis => ../..
