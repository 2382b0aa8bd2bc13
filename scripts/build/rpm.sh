#!/usr/bin/env bash
# Builds dist-rpm/bootwarden-<version>-1.x86_64.rpm with rpmbuild (Debian's rpm package will do): the tree
# scripts/install.sh stages, packaging/rpm/bootwarden.spec's scriptlets, the config as %config(noreplace).
set -euo pipefail
cd "$(dirname "$0")/../.."
# BOOTWARDEN_BUILT=1: dist/ is built already (scripts/build/sysext.sh says why).
[ "${BOOTWARDEN_BUILT:-}" = 1 ] && [ -f dist/cli.js ] || npm run -s build
version=$(node -p 'require("./package.json").version')
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
stage=$top/stage
DESTDIR="$stage" PREFIX=/usr bash scripts/install.sh >/dev/null
gzip -9nf "$stage/usr/share/man/man8/bootwarden.8" "$stage/usr/share/man/man5/bootwarden.yaml.5"
install -D -m 0644 packaging/systemd/80-bootwarden.preset "$stage/usr/lib/systemd/system-preset/80-bootwarden.preset"
# Debian's rpmbuild has no systemd macros: systemd's own definitions, loaded only when missing.
macros=()
[ "$(rpm --eval '%{?systemd_post:defined}')" = defined ] ||
  macros=(--load packaging/rpm/macros.systemd-fallback)
rpmbuild -bb --quiet "${macros[@]}" --define "_topdir $top" --define "stage $stage" --define "version $version" \
  --define "_build_id_links none" packaging/rpm/bootwarden.spec >"$top/log" 2>&1 || { cat "$top/log" >&2; exit 1; }
mkdir -p dist-rpm
out=dist-rpm/bootwarden-$version-1.x86_64.rpm
cp "$top/RPMS/x86_64/bootwarden-$version-1.x86_64.rpm" "$out.$$"
mv -f "$out.$$" "$out"
echo "$out"
