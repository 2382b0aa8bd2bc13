#!/usr/bin/env bash
# npm run bench: set up like the tests, build the system extension (the bundled LTS Node's figures), then run the
# benchmarks (root; about 25 minutes; BENCH_QUICK=1: a reduced table in about 7 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run -s sysext >/dev/null
exec node scripts/bench/bench.mjs
