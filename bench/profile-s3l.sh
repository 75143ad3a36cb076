#!/usr/bin/env bash
# Profiles the Go server at the harness's S3L load (see PROFILE.md): Redis,
# two bench servers, 200 clients over 2 driver processes, the emitter at
# RATE broadcasts/s for SECS seconds. Writes into OUT (default ./profiles):
# node 0's CPU profile of the whole run, and mid-run its allocs, goroutine
# and block profiles, plus GODEBUG=schedtrace lines (stderr of both nodes).
#
#   bench/profile-s3l.sh [RATE] [SECS] [OUT]     (from the repository root)
#
# Extra server environment (e.g. SIOREDIS_WS_INLINE=0) passes through.
set -euo pipefail
RATE=${1:-100}
SECS=${2:-20}
OUT=$(mkdir -p "${3:-profiles}" && cd "${3:-profiles}" && pwd)
ROOT=$(cd "$(dirname "$0")" && pwd)
H=$ROOT/harness
BIN=${BIN:-$H/bin/sioredis-bench-server} # built from this tree
go build -o "$BIN" "$ROOT/server"
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(free); P0=$(free); P1=$(free); D0=$(free); D1=$(free)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
sleep 0.5
for i in 0 1; do
  port=P$i; dbg=D$i
  PORT=${!port} REDIS_URL=redis://127.0.0.1:$RP NODE_ID=n$i \
    SIOREDIS_PPROF=127.0.0.1:${!dbg} SIOREDIS_BLOCKPROFILE=10000 \
    SIOREDIS_CPUPROFILE="$OUT/cpu" GODEBUG=schedtrace=1000 \
    "$BIN" >"$OUT/n$i.stdout" 2>"$OUT/n$i.stderr" &
  pids+=($!)
done
for i in 0 1; do
  for _ in $(seq 100); do grep -q '^ready' "$OUT/n$i.stdout" && break; sleep 0.1; done
done
EXPECT=$((RATE * SECS * 200))
(cd "$H" && node lib/driver.js --urls "http://127.0.0.1:$P0,http://127.0.0.1:$P1" --clients 200 --procs 2 \
  --expect "$EXPECT" --idle 3000 --timeout $((SECS + 60)) >"$OUT/driver.json" 2>"$OUT/driver.stderr") &
drv=$!
sleep 4
(cd "$H" && node lib/publisher.js --redis "redis://127.0.0.1:$RP" --rate "$RATE" --duration "$SECS" --size 100 >"$OUT/publisher.json") &
pub=$!
sleep $((SECS / 2))
curl -s "http://127.0.0.1:$D0/debug/pprof/goroutine?debug=1" >"$OUT/goroutine-n0.txt"
curl -s "http://127.0.0.1:$D0/debug/pprof/block" >"$OUT/block-n0.pprof"
curl -s "http://127.0.0.1:$D0/debug/pprof/allocs?seconds=5" >"$OUT/allocs-n0.pprof"
wait "$pub" "$drv"
kill -TERM "${pids[1]}" "${pids[2]}"
sleep 2
echo "profiles in $OUT; e.g. go tool pprof -top $BIN $OUT/cpu-n0.pprof" >&2
