#!/usr/bin/env bash
# `npm run bench`: builds the benchmark, starts a throw-away Temporal dev server (in memory)
# unless TEMPORAL_ADDRESS points at one, and runs bench/run.ts. BENCH_ROWS sets the size.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"

ensure_node_modules
ensure_duckdb_extensions
npx tsc -p tsconfig.bench.json

server_pid=""
if [[ -z "${TEMPORAL_ADDRESS:-}" ]]; then
  temporal="$(ensure_temporal_cli | tail -n1)"
  port="$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  mkdir -p "$STATE_DIR/bench"
  mapfile -t sa_flags < <(search_attribute_flags)
  "$temporal" server start-dev --headless --ip 127.0.0.1 --port "$port" --log-level error "${sa_flags[@]}" \
    >"$STATE_DIR/bench-temporal.log" 2>&1 &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null || true' EXIT
  wait_for_port 127.0.0.1 "$port" 60 "$server_pid"
  export TEMPORAL_ADDRESS="127.0.0.1:$port"
  # The port opens before the namespace is ready.
  sleep 2
fi
node .cdcflow/bench-build/bench/run.js
