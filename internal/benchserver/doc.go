// Package benchserver holds what the Go servers of the benchmark harness's
// contract (bench/README.md, bench/harness/README.md) share whatever their
// socket.io version: bench/server (socket.io v2.5.0) and sio3/bench/server
// (v3.0.6) keep only the socket.io calls. It reads the contract's
// environment (NODE_ID, PORT, REDIS_URL, SIOREDIS_INBOX and the profiling
// variables), serves the HTTP endpoint, runs the ready/SIGTERM lifecycle
// and implements the events' work (blast, fetch) over a function per
// socket.io call.
package benchserver
