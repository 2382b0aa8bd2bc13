#!/usr/bin/env bash
# Builds dist-deb/bootwarden_<version>_<arch>.deb with dpkg-deb: the same tree scripts/install.sh makes, the config
# as a conffile, maintainer scripts that enable the units with deb-systemd-helper, and Depends: nodejs (>= 20.19).
set -euo pipefail
cd "$(dirname "$0")/../.."
# BOOTWARDEN_BUILT=1: dist/ is built already (scripts/build/sysext.sh says why).
[ "${BOOTWARDEN_BUILT:-}" = 1 ] && [ -f dist/cli.js ] || npm run -s build
version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
DESTDIR="$stage" PREFIX=/usr bash scripts/install.sh >/dev/null
# Debian's rules (lintian): man pages and the changelog compressed with gzip -9n, the copyright in DEP-5 form with
# every bundled package's licence, the libraries the native addons link against as dependencies (what
# ${shlibs:Depends} would be: dpkg-shlibdeps reads the addons' ELF headers).
gzip -9nf "$stage/usr/share/man/man8/bootwarden.8" "$stage/usr/share/man/man5/bootwarden.yaml.5"
gzip -9n <packaging/deb/changelog >"$stage/usr/share/doc/bootwarden/changelog.gz"
node scripts/build/copyright.mjs "$stage/usr/share/doc/bootwarden/copyright" /usr/lib/bootwarden --debian
shl=$(mktemp -d)
mkdir -p "$shl/debian"
printf 'Source: bootwarden\n\nPackage: bootwarden\nArchitecture: any\n' >"$shl/debian/control"
shlibs=$(cd "$shl" && find "$stage/usr/lib/bootwarden" -name '*.node' -exec dpkg-shlibdeps -O {} + 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
rm -rf "$shl"
[ -n "$shlibs" ] || { echo "deb: dpkg-shlibdeps found no libraries for the native addons" >&2; exit 1; }
install -d "$stage/DEBIAN"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$stage/DEBIAN/"
echo /etc/bootwarden/config.yaml >"$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: bootwarden
Version: $version
Architecture: $arch
Maintainer: bootwarden developers <maintainers@bootwarden.github.io>
Installed-Size: $size
Depends: nodejs (>= 20.19), $shlibs, init-system-helpers (>= 1.52), systemd
Section: admin
Priority: optional
Description: boot assessment for A/B-updated systems: bless a trial boot or roll back
 bootwarden reads the boot loader's A/B state (ChromeOS/Flatcar GPT attributes,
 the GRUB environment block, systemd-boot's boot counting, or the U-Boot
 environment of RAUC, Mender and SWUpdate), watches the critical units over
 D-Bus, flag files and check scripts, and marks the trial slot good, or bad
 and reboots into the previous slot. Ships systemd units, a .path unit for
 gating on a healthy boot, a backstop timer, man pages and a journal catalog.
CONTROL
mkdir -p dist-deb
out="dist-deb/bootwarden_${version}_${arch}.deb"
# Built beside and renamed: a test reading the package while another builds it sees a whole one.
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out.$$" >/dev/null
mv -f "$out.$$" "$out"
echo "$out"
