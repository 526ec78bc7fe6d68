#!/usr/bin/env bash
# The test command: sets up (idempotent), lints, type-checks and runs every test with Node's
# built-in runner. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
npm run lint
npm test
