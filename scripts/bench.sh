#!/usr/bin/env bash
# npm run bench: set up like the tests, then run the benchmarks (root; about 15 minutes with the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/bench/bench.mjs
