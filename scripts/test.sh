#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up (system packages, node modules, build), then typecheck + lint +
# mocha. Tests that need Kafka or InfluxDB start them on loopback (19092, 18086) when they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run -s lint
npx mocha 'dist/test/**/*.test.js' "$@"
