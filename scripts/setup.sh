#!/usr/bin/env bash
# Sets osm-ts up on a fresh Debian machine with Node.js 20: npm dependencies (exactly as
# locked) and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
