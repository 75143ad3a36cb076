#!/usr/bin/env bash
# Memory census per connection of the Go bench server (see PROFILE.md):
# one Redis-adapter node, N clients (the harness's driver, raw client mode,
# joined to "bench"), heap and goroutine profiles before and after they
# connect, after a GC (heap profile sampled every MEMPROFILERATE bytes, default 4096).
#
#   bench/census.sh [N] [OUT]       (from the repository root)
#
# Writes OUT/heap-{before,after}.pprof, OUT/goroutine-{before,after}.txt and
# OUT/memstats-{before,after}.txt (the runtime.MemStats that
# /debug/pprof/heap?debug=1 ends with). Extra server environment (e.g.
# SIOREDIS_WSTRANSPORT=stock) passes through. Then, e.g.:
#   go tool pprof -top -sample_index=inuse_space -diff_base OUT/heap-before.pprof BIN OUT/heap-after.pprof
set -euo pipefail
N=${1:-1000}
OUT=$(mkdir -p "${2:-census}" && cd "${2:-census}" && pwd)
ROOT=$(cd "$(dirname "$0")" && pwd)
H=$ROOT/harness
BIN=${BIN:-$H/bin/sioredis-bench-server} # built from this tree
go build -o "$BIN" "$ROOT/server"
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(free); P0=$(free); D0=$(free)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
pids+=($!)
sleep 0.5
PORT=$P0 REDIS_URL=redis://127.0.0.1:$RP NODE_ID=n0 SIOREDIS_PPROF=127.0.0.1:$D0 SIOREDIS_MEMPROFILERATE=${MEMPROFILERATE:-4096} \
  "$BIN" >"$OUT/n0.stdout" 2>"$OUT/n0.stderr" &
pids+=($!)
for _ in $(seq 100); do grep -q '^ready' "$OUT/n0.stdout" && break; sleep 0.1; done
snap() {
  curl -s "http://127.0.0.1:$D0/debug/pprof/heap?gc=1" >"$OUT/heap-$1.pprof"
  curl -s "http://127.0.0.1:$D0/debug/pprof/heap?debug=1" | sed -n '/^# runtime.MemStats/,$p' >"$OUT/memstats-$1.txt"
  curl -s "http://127.0.0.1:$D0/debug/pprof/goroutine?debug=1" >"$OUT/goroutine-$1.txt"
  grep -m1 '^# VmRSS\|^VmRSS' "/proc/${pids[1]}/status" >>"$OUT/memstats-$1.txt" || grep VmRSS "/proc/${pids[1]}/status" >>"$OUT/memstats-$1.txt"
}
sleep 1
snap before
(cd "$H" && node lib/driver.js --urls "http://127.0.0.1:$P0" --clients "$N" --procs 2 --client raw \
  --expect 1 --idle 15000 --timeout 25 >"$OUT/driver.json" 2>"$OUT/driver.stderr") &
drv=$!
for _ in $(seq 300); do grep -q '^connected' "$OUT/driver.stderr" 2>/dev/null && break; sleep 0.1; done
sleep 3
snap after
kill "$drv" 2>/dev/null || true
echo "census in $OUT" >&2
