#!/usr/bin/env bash
# Start the local PostgreSQL cluster (Debian's package, installed when missing): data under
# .cdcflow/postgres/ (or $CDCFLOW_PG_DIR; a link to a folder under /var/tmp when the postgres
# user cannot reach it), 127.0.0.1 only, port $CDCFLOW_PG_PORT (default
# 55432). Creates it on first use. Prints its connection string as the last stdout line:
#   export CDCFLOW_PG_URL="$(bash scripts/start-postgres.sh | tail -n1)"
# Stop it with scripts/stop-postgres.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_postgres_server
