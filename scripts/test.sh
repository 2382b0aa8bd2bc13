#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, static checks, unit tests, tests against the real tools
# (cgpt, sgdisk, grub-editenv), and system tests against a real systemd in a container (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== typecheck"; npm run -s typecheck
echo "== lint"; npm run -s lint
echo "== tests"
npx vitest run --reporter=default
