#!/usr/bin/env bash
# Installs a built bootwarden (run `npm run build` first) into DESTDIR (default /) under PREFIX (default /usr).
#   scripts/install.sh [--enable]          install; --enable also enables the units (systemctl --root)
#   scripts/install.sh --uninstall [--purge]   remove it; --purge also removes /etc/bootwarden and /var/lib/bootwarden
set -euo pipefail
cd "$(dirname "$0")/.."
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr}
ROOT=${DESTDIR:-/}
LIB=$DESTDIR$PREFIX/lib/bootwarden
UNITDIR=$DESTDIR$PREFIX/lib/systemd/system
UNITS=(bootwarden.service bootwarden-verdict.service bootwarden-healthy.path bootwarden-healthy.target
  bootwarden-backstop.timer bootwarden-backstop.service bootwarden-catalog.service)
ENABLE=(bootwarden.service bootwarden-verdict.service bootwarden-healthy.path bootwarden-backstop.timer)
mode=install enable=0 purge=0
for a in "$@"; do
  case $a in
    --enable) enable=1 ;;
    --uninstall) mode=uninstall ;;
    --purge) purge=1 ;;
    *) echo "install.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

# dbus-daemon reads /usr/share/dbus-1/system.d and /etc/dbus-1/system.d, never a /usr/local one.
if [ "$PREFIX" = /usr ]; then DBUSDIR=$DESTDIR/usr/share/dbus-1/system.d; else DBUSDIR=$DESTDIR/etc/dbus-1/system.d; fi

if [ $mode = uninstall ]; then
  systemctl --root="$ROOT" disable "${ENABLE[@]}" >/dev/null 2>&1 || true
  rm -rf "$LIB" "$DESTDIR$PREFIX/share/bootwarden" "$DESTDIR$PREFIX/share/doc/bootwarden"
  rm -f "$DESTDIR$PREFIX/bin/bootwarden" "$DESTDIR$PREFIX/lib/systemd/catalog/bootwarden.catalog" \
    "$DESTDIR$PREFIX/share/man/man8/bootwarden.8" "$DESTDIR$PREFIX/share/man/man5/bootwarden.yaml.5" \
    "$DESTDIR$PREFIX/lib/tmpfiles.d/bootwarden.conf" "$DBUSDIR/io.github.bootwarden1.conf" \
    "$DESTDIR/usr/share/polkit-1/actions/io.github.bootwarden1.policy"
  for u in "${UNITS[@]}"; do rm -f "$UNITDIR/$u"; done
  rm -f "$UNITDIR/systemd-bless-boot.service.d/50-bootwarden.conf"
  rmdir "$UNITDIR/systemd-bless-boot.service.d" 2>/dev/null || true
  [ $purge = 1 ] && rm -rf "$DESTDIR/etc/bootwarden" "$DESTDIR/var/lib/bootwarden"
  echo "bootwarden removed from $ROOT"
  exit 0
fi

[ -f dist/cli.js ] || { echo "install.sh: dist/cli.js missing: run npm run build first" >&2; exit 1; }
install -d "$LIB" "$UNITDIR" "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/lib/systemd/catalog" \
  "$DESTDIR$PREFIX/lib/tmpfiles.d" "$DESTDIR$PREFIX/share/bootwarden/grub" "$DESTDIR$PREFIX/share/doc/bootwarden" \
  "$DESTDIR/etc/bootwarden/config.d"
rm -rf "$LIB/dist" "$LIB/node_modules" "$LIB/chunks" "$LIB/native" "$LIB/bootwarden.mjs"
# The same bundle as the system extension's, for the oldest Node we run on: Node 20 has no compile cache, and
# resolving and compiling dist/'s hundreds of files was a third of the daemon's start (README, Benchmarks).
node scripts/build/bundle.mjs "$LIB" node20
# Beside it only the native addons, as built here (same Node ABI and glibc as the target), and our own (Node-API).
install -D -m 0755 dist/native/bootwarden.node "$LIB/native/bootwarden.node"
node scripts/build/prod-deps.mjs systemd-journald unix-dgram |
  while read -r d; do mkdir -p "$LIB/$(dirname "$d")"; cp -a "$d" "$LIB/$d"; done
bash scripts/build/prune-modules.sh "$LIB"
cat >"$DESTDIR$PREFIX/bin/bootwarden" <<WRAP
#!/bin/sh
exec node $PREFIX/lib/bootwarden/bootwarden.mjs "\$@"
WRAP
chmod 0755 "$DESTDIR$PREFIX/bin/bootwarden"
# The units exec node directly, no shell between systemd and the daemon; systemd finds a plain "node" in
# /usr/local/bin, /usr/bin and their sbin twins.
for u in "${UNITS[@]}"; do
  sed -e "s|^ExecStart=/usr/bin/bootwarden |ExecStart=node $PREFIX/lib/bootwarden/bootwarden.mjs |" \
    -e "s|^\(ExecStart=node .*\) /usr/lib/bootwarden/|\1 $PREFIX/lib/bootwarden/|" \
    -e "s|/usr/bin/bootwarden|$PREFIX/bin/bootwarden|g" \
    -e "s|/usr/lib/systemd/catalog/|$PREFIX/lib/systemd/catalog/|g" "units/$u" >"$UNITDIR/$u"
  chmod 0644 "$UNITDIR/$u"
done
install -D -m 0644 packaging/systemd/systemd-bless-boot.service.d/50-bootwarden.conf \
  "$UNITDIR/systemd-bless-boot.service.d/50-bootwarden.conf"
install -m 0644 packaging/catalog/bootwarden.catalog "$DESTDIR$PREFIX/lib/systemd/catalog/"
# The D-Bus API's bus policy and polkit action: where dbus-daemon and polkitd read them, whatever the prefix.
install -D -m 0644 packaging/dbus/io.github.bootwarden1.conf "$DBUSDIR/io.github.bootwarden1.conf"
install -D -m 0644 packaging/polkit/io.github.bootwarden1.policy \
  "$DESTDIR/usr/share/polkit-1/actions/io.github.bootwarden1.policy"
install -m 0644 packaging/tmpfiles/bootwarden.conf "$DESTDIR$PREFIX/lib/tmpfiles.d/"
install -m 0755 packaging/grub/08_bootwarden_counting "$DESTDIR$PREFIX/share/bootwarden/grub/"
cp -a packaging/examples schema "$DESTDIR$PREFIX/share/bootwarden/"
install -m 0644 README.md "$DESTDIR$PREFIX/share/doc/bootwarden/"
install -D -m 0644 packaging/man/bootwarden.8 "$DESTDIR$PREFIX/share/man/man8/bootwarden.8"
install -D -m 0644 packaging/man/bootwarden.yaml.5 "$DESTDIR$PREFIX/share/man/man5/bootwarden.yaml.5"
# Never overwrite the user's configuration.
[ -e "$DESTDIR/etc/bootwarden/config.yaml" ] || install -m 0644 packaging/config/config.yaml "$DESTDIR/etc/bootwarden/"
if [ $enable = 1 ]; then
  systemctl --root="$ROOT" enable "${ENABLE[@]}" >/dev/null 2>&1
fi
echo "bootwarden installed into $ROOT (prefix $PREFIX)"
