#!/usr/bin/env bash
# Builds dist-rpm/bootwarden-<version>-1.x86_64.rpm with rpmbuild (Debian's rpm package will do): the tree
# scripts/install.sh stages, packaging/rpm/bootwarden.spec's scriptlets, the config as %config(noreplace).
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run -s build
version=$(node -p 'require("./package.json").version')
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
stage=$top/stage
DESTDIR="$stage" PREFIX=/usr bash scripts/install.sh >/dev/null
rpmbuild -bb --quiet --define "_topdir $top" --define "stage $stage" --define "version $version" \
  --define "_build_id_links none" packaging/rpm/bootwarden.spec >"$top/log" 2>&1 || { cat "$top/log" >&2; exit 1; }
mkdir -p dist-rpm
out=dist-rpm/bootwarden-$version-1.x86_64.rpm
cp "$top/RPMS/x86_64/bootwarden-$version-1.x86_64.rpm" "$out"
echo "$out"
