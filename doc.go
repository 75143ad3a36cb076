// Package sioredis holds the vocabulary shared by every part of sioredis,
// the Redis-backed scaling layer for Socket.IO servers written in Go: the
// errors, the statistics, the Observer that metrics integrations implement
// and the sharded subscription modes, whatever the Socket.IO version the
// server binding is written for. The Prometheus and OpenTelemetry
// integrations are modules of their own (extra/sioredisprom,
// extra/sioredisotel), so that the library requires neither.
//
// The parts themselves live in sub-packages:
//
//   - redisadapter: the adapter for github.com/zishang520/socket.io/v2
//     servers (classic and sharded Redis pub/sub);
//   - emitter: publish into the cluster from a process that serves no
//     clients (cron job, worker, CLI);
//   - wstransport: an optional WebSocket transport for engine.io v2.
//
// This package imports nothing but the standard library.
package sioredis
