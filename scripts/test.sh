#!/usr/bin/env bash
# The project's test command (`npm test`): install what is missing, type-check,
# build, then run all jest projects (unit + integration). Extra args go to jest,
# e.g. `npm test -- --selectProjects unit` or `npm test -- test/integration/foo`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$PROJECT_ROOT"

ensure_node_modules

# Type-check src + test once here; jest itself only transpiles.
npx --no-install tsc --noEmit -p . || die "type check failed (tsc --noEmit -p .)"

npm run --silent build || die "build failed (npm run build)"

# Install the pinned Temporal CLI up front so the jest globalSetup finds it ready
# (and a failed download shows up as such, not as a test failure).
ensure_temporal_cli >/dev/null

npx --no-install jest --ci "$@" || die "tests failed"
echo "test.sh: type check, build and tests passed"
