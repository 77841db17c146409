#!/usr/bin/env bash
# The project's test command (`npm test`): install what is missing, type-check,
# build, then run all jest projects (unit + integration). Extra args go to jest,
# e.g. `npm test -- --selectProjects unit` or `npm test -- test/integration/foo`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"

ensure_node_modules
ensure_duckdb_extensions
ensure_chromium

# Type-check src + test once here; jest itself only transpiles.
npx --no-install tsc --noEmit -p . || die "type check failed (tsc --noEmit -p .)"

npx --no-install eslint src test bench || die "lint failed (npm run lint)"

npm run --silent build || die "build failed (npm run build)"

# Install the pinned Temporal CLI, PostgreSQL, moto (a local S3) and the Compose file checker up front so the jest globalSetup finds them
# ready (and a failed download shows up as such, not as a test failure).
ensure_temporal_cli >/dev/null
postgres_bin_dir >/dev/null
ensure_moto_server >/dev/null
# The Compose file is checked as Docker Compose loads it, with or without Docker (test/unit/docker-compose.test.ts).
CDCFLOW_COMPOSE_CHECK="$(ensure_compose_check)"
export CDCFLOW_COMPOSE_CHECK

# Jest's own summary is not a line CI recognises, so keep a JSON report and end
# with a plain "N passed, N failed, N skipped" line.
results="$STATE_DIR/test/jest-results.json"
mkdir -p "$(dirname "$results")"
rm -f "$results"
status=0
# Test processes run a worker's DuckDB activities and their own DuckDB checks at once; libuv's
# default pool of 4 threads can stall DuckDB's connect() under that load (duckdb-node-neo #325).
export UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-16}"
# The tests' temporary folders (warehouses of up to 300 MB, the PostgreSQL cluster, spill) go in
# one folder of this run, named after its pid and removed when it ends. Under the system's
# temporary folder, not the checkout: the postgres user must reach the cluster's.
remove_test_tmp() {
  # A jest run killed before its teardown leaves its PostgreSQL cluster running.
  for cluster in "$1"/cdcflow-test-postgres-*; do
    # In a subshell: its die must not end this cleanup before the folder goes.
    [[ -d "$cluster" ]] && { (stop_postgres_server "$cluster") || true; }
  done
  rm -rf "$1"
}
tmp_root="${TMPDIR:-/tmp}"
# Those of runs killed before their own cleanup (SIGKILL, a CI timeout) go now.
for old in "$tmp_root"/cdcflow-tests-*; do
  [[ -d "$old" ]] && ! kill -0 "${old##*-}" 2>/dev/null && remove_test_tmp "$old"
done
export TMPDIR="$tmp_root/cdcflow-tests-$$"
mkdir -p "$TMPDIR"
chmod 755 "$TMPDIR"
trap 'remove_test_tmp "$TMPDIR"' EXIT
npx --no-install jest --ci --json --outputFile="$results" "$@" || status=$?

summary=""
if [[ -s "$results" ]]; then
  summary="$(node -e '
    const r = require(process.argv[1]);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  ' "$results" 2>/dev/null || true)"
fi
if ((status != 0)); then
  [[ -n "$summary" ]] && echo "tests: $summary"
  die "jest failed (exit $status)"
fi
echo "tests: ${summary:-passed}"
