#!/usr/bin/env bash
# Installs what the tests need (only what is missing), runs the whole test
# suite and ends with one summary line: "N passed, N failed[, N skipped]".
# Exit code: dotnet test's, and non-zero as well if a test failed or no test ran.
set -euo pipefail

cd "$(dirname "$0")"

log() { printf '==> %s\n' "$*"; }

# --- system packages: a browser for the page tests, Redis (server and redis-cli, which builds the test Redis Cluster) for the adapter tests
if ! command -v chromium >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  log "installing chromium and redis-server"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium redis-server
fi

# --- python-socketio 5.7 on aiohttp (Debian's packages): a peer in the benchmark, whose smoke run is a test
if ! /usr/bin/python3 -c 'import socketio, aiohttp' >/dev/null 2>&1; then
  log "installing python3-socketio and python3-aiohttp"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-socketio python3-aiohttp
fi

# --- node packages (reference servers, scenario runner, Socket.IO clients)
# npm ci rewrites node_modules/.package-lock.json, so that file dates the install.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi

# --- tests
results_dir="TestResults"
rm -rf "$results_dir"

log "dotnet test"
set +e
dotnet test SocketIoSignal.sln -c Release \
  --logger "console;verbosity=normal" \
  --logger "trx" \
  --results-directory "$results_dir"
rc=$?
set -e

# --- summary from the trx files of this run:
# <Counters total=".." executed=".." passed=".." failed=".." error=".." timeout=".."
#           aborted=".." inconclusive=".." notExecuted=".." ... />
counter() { # counter NAME TEXT -> value of attribute NAME (0 if absent)
  local v
  v=$(printf '%s' "$2" | grep -o " $1=\"[0-9]*\"" | head -n 1 | grep -o '[0-9]\+' || true)
  printf '%s' "${v:-0}"
}

total=0 passed=0 failed=0 skipped=0 files=0 not_run=0 listed=0
while IFS= read -r -d '' trx; do
  files=$((files + 1))
  counters=$(tr '\n' ' ' < "$trx" | grep -o '<Counters [^>]*>' | head -n 1 || true)
  [ -n "$counters" ] || continue
  total=$((total + $(counter total "$counters")))
  passed=$((passed + $(counter passed "$counters")))
  failed=$((failed + $(counter failed "$counters") + $(counter error "$counters") \
    + $(counter timeout "$counters") + $(counter aborted "$counters")))
  # The trx logger leaves notExecuted at 0 and lowers executed instead for
  # ignored and inconclusive tests, so count whichever says more.
  not_run=$(( $(counter total "$counters") - $(counter executed "$counters") ))
  listed=$(( $(counter notExecuted "$counters") + $(counter inconclusive "$counters") ))
  skipped=$((skipped + (not_run > listed ? not_run : listed)))
done < <(find "$results_dir" -name '*.trx' -print0 2>/dev/null)

if [ "$rc" -eq 0 ] && { [ "$failed" -gt 0 ] || [ "$total" -eq 0 ] || [ "$passed" -eq 0 ]; }; then
  rc=1
fi
if [ "$files" -eq 0 ]; then
  echo "no test results (trx) found in $results_dir" >&2
fi

summary="$passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then summary="$summary, $skipped skipped"; fi
echo "$summary"
exit "$rc"
