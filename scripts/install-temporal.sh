#!/usr/bin/env bash
# Install the pinned Temporal CLI (1.9.1) project-locally and print its path as the
# last stdout line. No-op when already installed; honours $TEMPORAL_CLI.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_temporal_cli
