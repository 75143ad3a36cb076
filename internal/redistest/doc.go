// Package redistest gives tests a real, private Redis: a standalone server
// ([Start]) or a local Redis Cluster ([StartCluster]), started for the test
// and torn down when it ends.
//
// Where the Redis comes from, in order of preference:
//
//  1. the REDIS_URL (standalone) or REDIS_CLUSTER_ADDRS (cluster,
//     comma-separated host:port list) environment variable: an existing
//     server the test does not own, so operations that stop or restart it
//     skip the test;
//  2. a redis-server binary on PATH (redis-cli is not needed): each server is
//     its own process on a free 127.0.0.1 port, in a directory under
//     t.TempDir(), without persistence, stopped in t.Cleanup;
//  3. Docker, through the docker command-line client (standalone servers
//     only; the containers carry the label org.sioredis.redistest);
//  4. otherwise the test fails with a message saying to install
//     redis-server (apt-get install -y redis-server) or to set REDIS_URL.
//
// Everything here is safe to use from parallel tests and under the race
// detector. Local clusters need Redis 7.0 or newer.
package redistest
