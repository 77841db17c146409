#!/usr/bin/env bash
# Start a local Temporal dev server (frontend on $TEMPORAL_ADDRESS, default
# localhost:7233; Web UI on port+1000) that keeps its state in a SQLite file under
# .cdcflow/temporal/, so workflow history survives restarts. No-op if something
# already listens there. Stop it with scripts/stop-temporal.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ADDRESS="${TEMPORAL_ADDRESS:-localhost:7233}"
split_address "$ADDRESS"
PORT="$ADDR_PORT"
UI_PORT=$((PORT + 1000))

if port_open "$ADDR_HOST" "$PORT"; then
  echo "Temporal already listening on $ADDRESS"
  exit 0
fi

case "$ADDR_HOST" in
  localhost | 127.0.0.1 | ::1) ;;
  *) die "nothing listens on $ADDRESS and it is not a local address, so there is nothing to start" ;;
esac

RUN_DIR="$STATE_DIR/temporal"
DB_FILE="$RUN_DIR/dev-server.db"
LOG_FILE="$RUN_DIR/dev-server.log"
PID_FILE="$RUN_DIR/dev-server.pid"
mkdir -p "$RUN_DIR"

TEMPORAL="$(ensure_temporal_cli | tail -n1)"

# A server we started earlier may still be booting (port not open yet); reuse it
# rather than starting a second one on the same DB file.
pid=""
if [[ -f "$PID_FILE" ]]; then
  pid="$(cat "$PID_FILE")"
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$PID_FILE"
    pid=""
  fi
fi

if [[ -z "$pid" ]]; then
  mapfile -t sa_flags < <(search_attribute_flags)
  # Fresh log per start (previous one kept) so failures show only this run's output.
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.prev"
  # setsid + nohup: detach from this shell's session so the server outlives the
  # script (and the terminal). The inner bash writes its own pid, which the exec
  # hands to the server, so the pid file is exact even if setsid had to fork.
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_FILE" \
    "$TEMPORAL" server start-dev \
    --ip 127.0.0.1 --port "$PORT" --ui-port "$UI_PORT" \
    --db-filename "$DB_FILE" \
    --log-level warn \
    "${sa_flags[@]}" \
    </dev/null >"$LOG_FILE" 2>&1 &
  # Wait for the pid file the child writes (it is immediate in practice).
  for _ in $(seq 50); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  [[ -s "$PID_FILE" ]] || die "Temporal dev server did not start; see $LOG_FILE"
  pid="$(cat "$PID_FILE")"
fi

if ! wait_for_port 127.0.0.1 "$PORT" 60 "$pid"; then
  echo "--- last lines of $LOG_FILE ---" >&2
  tail -n 30 "$LOG_FILE" >&2 || true
  kill -0 "$pid" 2>/dev/null || rm -f "$PID_FILE"
  die "Temporal dev server (pid $pid) did not come up on 127.0.0.1:$PORT"
fi

echo "Temporal dev server on localhost:$PORT, Web UI http://localhost:$UI_PORT"
