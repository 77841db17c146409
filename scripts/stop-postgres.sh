#!/usr/bin/env bash
# Stop the PostgreSQL cluster started by scripts/start-postgres.sh (the one in .cdcflow/postgres/,
# or $CDCFLOW_PG_DIR). No-op if none runs. Its data stays for the next start.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_postgres_server
