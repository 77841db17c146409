#!/usr/bin/env bash
# `npm run bench`: builds the benchmark, starts a throw-away Temporal dev server (in memory)
# unless TEMPORAL_ADDRESS points at one and a throw-away PostgreSQL cluster, and runs
# bench/run.ts. BENCH_ROWS sets the size; BENCH_NODE_FLAGS passes flags to its node (e.g. --cpu-prof).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"

ensure_node_modules
ensure_duckdb_extensions
npx tsc -p tsconfig.bench.json

free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

server_pid=""
pg_dir="$STATE_DIR/bench-postgres"
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  (stop_postgres_server "$pg_dir") || true
  rm -rf "$(postgres_cluster_dir "$pg_dir")" "$pg_dir"
}
trap cleanup EXIT
rm -rf "$(postgres_cluster_dir "$pg_dir")" "$pg_dir"
CDCFLOW_BENCH_PG_URL="$(ensure_postgres_server "$pg_dir" "$(free_port)" | tail -n1)"
export CDCFLOW_BENCH_PG_URL

if [[ -z "${TEMPORAL_ADDRESS:-}" ]]; then
  temporal="$(ensure_temporal_cli | tail -n1)"
  port="$(free_port)"
  mkdir -p "$STATE_DIR/bench"
  mapfile -t sa_flags < <(search_attribute_flags)
  "$temporal" server start-dev --headless --ip 127.0.0.1 --port "$port" --log-level error "${sa_flags[@]}" \
    >"$STATE_DIR/bench-temporal.log" 2>&1 &
  server_pid=$!
  wait_for_port 127.0.0.1 "$port" 60 "$server_pid"
  export TEMPORAL_ADDRESS="127.0.0.1:$port"
  # The bench reports the server's CPU apart from the worker's: in production it runs elsewhere.
  export BENCH_TEMPORAL_PID="$server_pid"
  # The port opens before the namespace is ready.
  sleep 2
fi
# The bench build lives under .cdcflow/, so it cannot find the extensions relative to itself.
CDCFLOW_DUCKDB_EXTENSION_DIR="$STATE_DIR/duckdb-extensions" node ${BENCH_NODE_FLAGS:-} .cdcflow/bench-build/bench/run.js
