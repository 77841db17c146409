#!/usr/bin/env bash
# The embedded default, from a fresh clone: installs what is missing, starts a local Temporal
# dev server (SQLite under .cdcflow/, Web UI on :8233) unless one is reachable and the local
# PostgreSQL (scripts/start-postgres.sh), starts a worker, generates the 10,000-record example
# and a change-record table beside it, runs day 1 and day 2, then a PostgreSQL table's day 1
# and day 2 and a keys-only backfill request, and keeps everything up
# until Ctrl-C. CDCFLOW_DEMO_EXIT=1 stops after the runs instead (for scripted checks).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"

ensure_node_modules
ensure_duckdb_extensions
# Built only when the sources changed since: the test that runs the demo does so while other
# tests run the built CLI, which a rebuild would rewrite under them.
if [[ ! -f dist/cli/main.js || -n "$(find src package.json tsconfig.json tsconfig.build.json -newer dist/cli/main.js -print -quit)" ]]; then
  note "Building cdcflow..."
  npm run --silent build
fi

cdcflow() { node "$PROJECT_ROOT/dist/cli/main.js" "$@"; }
DEMO_DIR="$STATE_DIR/demo"
started_server=""
started_postgres=""
worker_pid=""
# Set before anything starts, so that a demo failing half-way stops what it started.
cleanup() {
  if [[ -n "$worker_pid" ]]; then
    # The schedule is applied once the worker runs.
    if [[ -f "$DEMO_DIR/data/dataset.yaml" ]]; then
      cdcflow schedule delete --config "$DEMO_DIR/data/dataset.yaml" >/dev/null 2>&1 || true
    fi
    # Once the demo's worker stops, no worker serves its task queue, where its datasets' queue
    # workflows would stay and refuse every later run of those datasets on another task queue
    # (`cdcflow generate` names its dataset "generated" too). Ended, the next request starts them anew.
    for dataset in generated demo-postgres; do
      "$temporal_cli" workflow terminate --address "$TEMPORAL_ADDRESS" --workflow-id "cdcflow/$dataset" \
        --reason "the demo ended" >/dev/null 2>&1 || true
    done
    kill "$worker_pid" 2>/dev/null || true
    wait "$worker_pid" 2>/dev/null || true
  fi
  if [[ -n "$started_server" ]]; then bash scripts/stop-temporal.sh >&2 || true; fi
  if [[ -n "$started_postgres" ]]; then bash scripts/stop-postgres.sh >&2 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-localhost:7233}"
split_address "$TEMPORAL_ADDRESS"
if ! port_open "$ADDR_HOST" "$ADDR_PORT"; then
  bash scripts/start-temporal.sh >&2
  started_server=1
fi
export TEMPORAL_UI_URL="${TEMPORAL_UI_URL:-http://localhost:$((ADDR_PORT + 1000))}"
# A queue of its own, so that a worker left over from other work cannot take the demo's tasks.
export CDCFLOW_TASK_QUEUE="${CDCFLOW_TASK_QUEUE:-cdcflow-demo}"

# A server started before the count search attributes existed gets them now (no-op otherwise).
cdcflow setup >/dev/null || note "cdcflow setup failed: runs may lack the count search attributes"

# The worker reads the PostgreSQL table with the connection string from its environment.
postgres_server_running || started_postgres=1
CDCFLOW_PG_URL="$(ensure_postgres_server | tail -n1)"
export CDCFLOW_PG_URL

# The server keeps its history: an earlier demo stopped without its cleanup leaves its schedule,
# and runs on the demo's queue that no worker took; they would run first, with today's date, into
# this demo's fresh warehouse. The schedule goes and the runs are ended before the worker starts.
temporal_cli="$(ensure_temporal_cli | tail -n1)"
"$temporal_cli" schedule delete --address "$TEMPORAL_ADDRESS" --schedule-id cdcflow/generated/schedule/demo >/dev/null 2>&1 || true
leftover="TaskQueue = '$CDCFLOW_TASK_QUEUE' AND WorkflowType = 'datasetWorkflow' AND ExecutionStatus = 'Running'"
if [[ "$("$temporal_cli" workflow count --address "$TEMPORAL_ADDRESS" --query "$leftover" 2>/dev/null)" =~ Total:\ *[1-9] ]]; then
  note "Ending the runs an earlier demo left open on task queue $CDCFLOW_TASK_QUEUE..."
  "$temporal_cli" workflow terminate --address "$TEMPORAL_ADDRESS" --query "$leftover" --reason "left open by an earlier demo" --yes >/dev/null
  for _ in $(seq 1 30); do
    [[ "$("$temporal_cli" workflow count --address "$TEMPORAL_ADDRESS" --query "$leftover")" =~ Total:\ *0 ]] && break
    sleep 1
  done
fi

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
worker_log="$DEMO_DIR/worker.log"
# Started directly (not through the function) so that $! is the worker itself.
node "$PROJECT_ROOT/dist/cli/main.js" worker >"$worker_log" 2>&1 &
worker_pid=$!


cdcflow generate --initial 10000 --keys 5 --nonkeys 10 --delete 0.2 --update 0.4 --unchanged 0.4 \
  --seed 42 --out "$DEMO_DIR/data"
# A change-record table beside the snapshot one: day 1 inserts 10,000 keys, day 2 brings 10,000
# events over 5,000 of them (new, updated, deleted keys, duplicates and late, stale copies).
cdcflow generate --changes --initial 10000 --events 10000 --touched 5000 --nonkeys 3 --seed 42 --out "$DEMO_DIR/changes"
for day in 1 2; do cp "$DEMO_DIR/changes/day$day/events.csv" "$DEMO_DIR/data/day$day/events.csv"; done
cat >>"$DEMO_DIR/data/dataset.yaml" <<'YAML'
  - name: events
    mode: changes
    operation: { column: op }
    orderBy: [{ name: seq, type: bigint }]
    keys: [{ name: key_1, type: varchar }]
    columns: [{ name: value_1, type: bigint }, { name: value_2, type: bigint }, { name: value_3, type: bigint }]
    source: { format: csv, path: events.csv }
YAML

for day in 1 2; do
  echo
  echo "== Day $day =="
  cdcflow run --config "$DEMO_DIR/data/dataset.yaml" --date "2024-01-0$day" --input "$DEMO_DIR/data/day$day"
done

demo_psql() { psql "$CDCFLOW_PG_URL" -X -q -v ON_ERROR_STOP=1 -c "$1"; }
PGOPTIONS='-c client_min_messages=warning' demo_psql "DROP SCHEMA IF EXISTS demo CASCADE"
demo_psql "CREATE SCHEMA demo;
  CREATE TABLE demo.customers (customer_id bigint PRIMARY KEY, name text, credit_limit numeric(12,2));
  INSERT INTO demo.customers SELECT g, 'customer ' || g, g * 10 FROM generate_series(1, 5000) g"
cat >"$DEMO_DIR/postgres.yaml" <<'YAML'
dataset: demo-postgres
warehouse: data/warehouse
tables:
  - name: customers
    keys: [{ name: customer_id, type: bigint }]
    columns:
      - { name: name, type: varchar }
      - { name: credit_limit, type: "decimal(12,2)" }
    source: { format: postgres, connection: CDCFLOW_PG_URL, table: demo.customers, chunkRows: 1000 }
YAML
echo
echo "== PostgreSQL table demo.customers, day 1 =="
cdcflow run --config "$DEMO_DIR/postgres.yaml" --date 2024-01-01
demo_psql "DELETE FROM demo.customers WHERE customer_id % 50 = 0;
  UPDATE demo.customers SET credit_limit = credit_limit + 1 WHERE customer_id % 25 = 1;
  INSERT INTO demo.customers SELECT g, 'customer ' || g, 0 FROM generate_series(5001, 5100) g"
echo
echo "== Day 2: 100 rows deleted, 200 updated, 100 inserted at the source =="
cdcflow run --config "$DEMO_DIR/postgres.yaml" --date 2024-01-02
demo_psql "UPDATE demo.customers SET name = 'repaired' WHERE customer_id IN (2, 3)"
echo
echo "== Backfill: a keys-only dump of customers 2, 3 and 999999 (found nowhere), through the dataset's queue =="
cdcflow backfill --config "$DEMO_DIR/postgres.yaml" --tables customers --key customer_id=2 --key customer_id=3 --key customer_id=999999 --date 2024-01-03
cdcflow backfill --config "$DEMO_DIR/postgres.yaml" --status

# Scheduled runs take the business date from their scheduled time (today) and today's batch
# is day 2's file again, so they find nothing changed: the point is to watch them arrive.
cat >>"$DEMO_DIR/data/dataset.yaml" <<'YAML'

schedules:
  - name: demo
    every: 30s
    businessDate: scheduled-day
YAML
echo
echo "== Schedule =="
cdcflow schedule apply --config "$DEMO_DIR/data/dataset.yaml" --input "$DEMO_DIR/data/day2"
scheduled='TemporalScheduledById = "cdcflow/generated/schedule/demo"'
deletes='CdcflowDataset = "generated" AND CdcflowDeletes > 0'
ui_query() { echo "$TEMPORAL_UI_URL/namespaces/default/workflows?query=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$1")"; }
cat <<MSG

A run arrives every 30 s. Type a query into the UI's workflow list (or open the link):
  the scheduled runs:       $scheduled
                            $(ui_query "$scheduled")
  runs that deleted rows:   $deletes
                            $(ui_query "$deletes")
Status from the shell:      npx cdcflow status --config $DEMO_DIR/data/dataset.yaml

Outputs:   $DEMO_DIR/data/warehouse/
Worker:    log in $worker_log (task queue $CDCFLOW_TASK_QUEUE)
Temporal:  $TEMPORAL_ADDRESS, Web UI $TEMPORAL_UI_URL
PostgreSQL: \$CDCFLOW_PG_URL (scripts/start-postgres.sh), table demo.customers
MSG
if [[ "${CDCFLOW_DEMO_EXIT:-}" == 1 ]]; then exit 0; fi
echo "Server, UI and worker stay up; press Ctrl-C to stop."
wait "$worker_pid"
