#!/usr/bin/env bash
# Runs the published protocol test suites against this server, N times in a row (default 20):
#
#   Engine.IO v4  https://github.com/socketio/engine.io-protocol   branch main, folder test-suite/
#   Engine.IO v3  https://github.com/socketio/engine.io-protocol   branch v3,   folder test-suite/
#   Socket.IO v5  https://github.com/socketio/socket.io-protocol   branch main, folder test-suite/
#
# Each suite is a mocha file that talks to http://localhost:3000 (the server started here with `--conformance`).
# The suites are not part of this repository: give a folder holding them, laid out as
#
#   SUITES_DIR/engine.io-protocol-v4/test-suite/   SUITES_DIR/engine.io-protocol-v3/test-suite/
#   SUITES_DIR/socket.io-protocol-v5/test-suite/
#
# or let the script clone the two repositories into the scratch folder (needs access to GitHub). Either way the
# suites run from a scratch copy (mktemp -d), where `npm ci` installs their own dependencies; nothing is written
# into the repository. The NUnit ports of the same cases run in ./test.sh.
#
#   conformance/run-published-suites.sh [--runs N] [--suites DIR] [--port P] [--only engine-v4,engine-v3,socket-v5]
set -euo pipefail

runs=20
suites_dir="${SUITES_DIR:-}"
port=3000
only="engine-v4,engine-v3,socket-v5"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --suites) suites_dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d -t published-suites.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

declare -A source_of=(
  [engine-v4]="engine.io-protocol-v4"
  [engine-v3]="engine.io-protocol-v3"
  [socket-v5]="socket.io-protocol-v5"
)

if [[ -z "$suites_dir" ]]; then
  suites_dir="$scratch/sources"
  mkdir -p "$suites_dir"
  git clone -q --depth 1 https://github.com/socketio/engine.io-protocol "$suites_dir/engine.io-protocol-v4"
  git clone -q --depth 1 --branch v3 https://github.com/socketio/engine.io-protocol "$suites_dir/engine.io-protocol-v3"
  git clone -q --depth 1 https://github.com/socketio/socket.io-protocol "$suites_dir/socket.io-protocol-v5"
fi

IFS=',' read -r -a selected <<< "$only"
for suite in "${selected[@]}"; do
  src="$suites_dir/${source_of[$suite]}/test-suite"
  [[ -f "$src/test-suite.js" ]] || { echo "missing $src/test-suite.js" >&2; exit 2; }
  mkdir -p "$scratch/$suite"
  cp -r "$src/." "$scratch/$suite/"
  sed -i "s#http://localhost:3000#http://localhost:$port#" "$scratch/$suite/test-suite.js"
  (cd "$scratch/$suite" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done

echo "building the server..."
dotnet build "$repo/Server" -c Release -nologo -v q >/dev/null
dotnet run --project "$repo/Server" -c Release --no-build -- --conformance --port "$port" >"$scratch/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

declare -A passed=()
failed_any=0
for suite in "${selected[@]}"; do
  passed[$suite]=0
  for run in $(seq 1 "$runs"); do
    if (cd "$scratch/$suite" && npx mocha --exit test-suite.js >"$scratch/$suite-run$run.log" 2>&1); then
      passed[$suite]=$((passed[$suite] + 1))
    else
      failed_any=1
      echo "$suite run $run failed:"
      grep -E "passing|failing|^\s+[0-9]+\) |Error" "$scratch/$suite-run$run.log" | head -20
    fi
  done
  echo "$suite: ${passed[$suite]}/$runs runs passed ($(grep -Eo '[0-9]+ passing' "$scratch/$suite-run$runs.log"))"
done
exit "$failed_any"
