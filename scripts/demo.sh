#!/usr/bin/env bash
# Sets up (Debian packages, npm packages, build), then runs the demo: a healthy and a bad upgrade under a real systemd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/demo.mjs
