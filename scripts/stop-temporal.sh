#!/usr/bin/env bash
# Stop the Temporal dev server started by scripts/start-temporal.sh (found by its
# pid file; a server started any other way is left alone). No-op if none runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PID_FILE="$STATE_DIR/temporal/dev-server.pid"
[[ -f "$PID_FILE" ]] || exit 0
pid="$(cat "$PID_FILE")"

# Only signal a live process that is really our dev server: a stale pid file may
# point at a pid the OS has since reused for something else.
is_our_server() {
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "server start-dev"
}

if is_our_server; then
  kill -TERM "$pid" 2>/dev/null || true
  # Give it 10 s to shut down cleanly (flushes SQLite), then force it.
  for _ in $(seq 100); do
    is_our_server || break
    sleep 0.1
  done
  if is_our_server; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  is_our_server && die "could not stop Temporal dev server (pid $pid)"
fi
rm -f "$PID_FILE"
