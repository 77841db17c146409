#!/usr/bin/env bash
# Install the DuckDB extensions cdcflow uses (ducklake, sqlite, postgres, httpfs) from their PyPI
# wheels for the pinned DuckDB into .cdcflow/duckdb-extensions/ (or $STATE_DIR). No-op when
# present. Where DuckDB can reach its own extension repository this is not needed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_duckdb_extensions
echo "$STATE_DIR/duckdb-extensions"
