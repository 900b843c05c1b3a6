#!/usr/bin/env bash
# The full benchmark: builds Release, then runs the load generator on CPU 1; the generator starts each
# server in turn pinned to CPU 0 (taskset -c 0), alternating servers within each of the runs, and writes
# bench/results/<date>.md and .svg (raw per-run numbers in bench/results/raw/, not committed).
#   bench/run.sh                 # full run, 3 runs (~1 hour on 2 cores)
#   bench/run.sh --runs 5        # any LoadGen argument passes through (--only ours-codelab,node-4.8.1, --smoke, ...)
#   bench/run.sh --only scaleout # (f) only: relay through Redis, 1 node vs 2 (~2.5 min) → bench/results/<date>-scaleout.md
#   bench/run.sh --only scaleout-growth # (f), 4 nodes: node 0's CPU per own message while the others' traffic grows 1x..8x,
#                                       # classic vs sharded, Redis memory per connection → bench/results/<date>-scenario-f.md
#   bench/run.sh --scenarios a,e --idle 5000,15000   # only (a) idle memory and (e) heartbeat, at those levels
#   bench/run.sh --compare-dll /path/to/other/SocketIoSignal.Server.dll  # another build of ours beside the others (before/after)
#   bench/run.sh --only ours-codelab --scenarios a --idle 5000 --hold 60  # keep 5000 idle connections 60 s (gcdump)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ]; then
  echo "==> npm ci (the Node reference servers)"
  npm ci --no-audit --no-fund
fi
echo "==> dotnet build -c Release"
dotnet build SocketIoSignal.sln -c Release -v quiet -nologo | tail -n 3

# 15k idle connections need that many descriptors on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 16000 ]; then
  echo "warning: ulimit -n is $(ulimit -n); the 15k idle scenario needs ~16000" >&2
fi

pin=(taskset -c 1)
if ! command -v taskset >/dev/null || [ "$(nproc)" -lt 2 ]; then
  echo "warning: taskset missing or fewer than 2 CPUs: running unpinned" >&2
  pin=()
  set -- --no-pin "$@"
fi
exec "${pin[@]}" dotnet bench/LoadGen/bin/Release/net10.0/LoadGen.dll --configuration Release "$@"
