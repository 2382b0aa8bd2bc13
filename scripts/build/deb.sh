#!/usr/bin/env bash
# Builds dist-deb/bootwarden_<version>_<arch>.deb with dpkg-deb: the same tree scripts/install.sh makes, the config
# as a conffile, maintainer scripts that enable the units with deb-systemd-helper, and Depends: nodejs (>= 20.19).
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run -s build
version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage" PREFIX=/usr bash scripts/install.sh >/dev/null
install -d "$stage/DEBIAN"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$stage/DEBIAN/"
echo /etc/bootwarden/config.yaml >"$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: bootwarden
Version: $version
Architecture: $arch
Maintainer: bootwarden developers <bootwarden@localhost>
Installed-Size: $size
Depends: nodejs (>= 20.19), libsystemd0, init-system-helpers (>= 1.52), systemd
Section: admin
Priority: optional
Description: boot assessment for A/B-updated systems: bless a trial boot or roll back
 bootwarden reads the boot loader's A/B state (ChromeOS/Flatcar GPT attributes, or the GRUB environment block
 with the greenboot or Kairos variables), watches the critical units over D-Bus and flag files in /run, and marks
 the trial slot good, or bad and reboots into the previous slot. Ships systemd units, a .path unit for gating on
 a healthy boot, a backstop timer, and a journal message catalog.
CONTROL
mkdir -p dist-deb
out="dist-deb/bootwarden_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out"
