#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, static checks, unit tests, tests against the real tools
# (cgpt, sgdisk, grub-editenv), and system tests (need root): a real systemd in systemd-nspawn and a real GRUB in QEMU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== typecheck"; npm run -s typecheck
echo "== lint"; npm run -s lint
echo "== tests"
report=$(mktemp)
rc=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
rm -f "$report"
exit $rc
