#!/usr/bin/env bash
# Leaves in DIR/node_modules only what runs: each package's JavaScript, package.json and licence, and of a native
# addon only build/Release/*.node. Every *.node under DIR is stripped and not executable (a shared object, as
# Debian's policy and lintian want it). Used by scripts/install.sh (so the .deb and the .rpm) and the sysext.
# Usage: scripts/build/prune-modules.sh DIR
set -euo pipefail
dir=$1
nm=$dir/node_modules
rm -rf "$nm/nan" # headers for building the addons only
find "$nm" -mindepth 2 -maxdepth 2 \( -name src -o -name test -o -name doc -o -name .github -o -name '*.gyp' \
  -o -name .npmignore -o -name .travis.yml -o -name .pre-commit-config.yaml -o -name '*.md' ! -iname 'licen?e*' \) \
  -exec rm -rf {} +
for b in "$nm"/*/build; do
  [ -d "$b" ] || continue
  find "$b" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$b/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
done
find "$nm" -type f ! -name '*.node' -exec chmod a-x {} +
find "$dir" -name '*.node' -type f -exec strip --strip-unneeded {} + -exec chmod 0644 {} +
