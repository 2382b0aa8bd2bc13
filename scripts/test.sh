#!/usr/bin/env bash
# The whole test suite, as CI runs it (as root): set-up, static checks, the in-process tier as an unprivileged user,
# then the tiers that need root: the real tools (cgpt, sgdisk, grub-editenv, strace) and the system tests (a real
# systemd in systemd-nspawn, a real GRUB in QEMU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== typecheck"; npm run -s typecheck
echo "== lint"; npm run -s lint
echo "== sysext image (the system tests install it)"; npm run -s sysext
reports=$(mktemp -d)
chmod 0777 "$reports"
rc=0
vitest() { node node_modules/vitest/vitest.mjs run --configLoader runner --reporter=default --reporter=json "$@" || rc=$?; }
echo "== in-process tier (test/unit), as an unprivileged user"
if [ "$(id -u)" = 0 ]; then
  HOME=/tmp setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    node node_modules/vitest/vitest.mjs run --configLoader runner --reporter=default --reporter=json \
    --outputFile.json="$reports/unit.json" test/unit || rc=$?
else
  vitest --outputFile.json="$reports/unit.json" test/unit
fi
echo "== tools and system tiers (test/tools, test/system)"
vitest --outputFile.json="$reports/root.json" test/tools test/system
node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) { f++; console.log(`missing report ${file}`); continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${p} passed, ${f} failed, ${s} skipped`);
' "$reports/unit.json" "$reports/root.json" || true
rm -rf "$reports"
exit $rc
