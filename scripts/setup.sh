#!/usr/bin/env bash
# Installs what bootwarden's build, tests and demo need on a bare Debian machine (as root): Debian packages
# through apt-get, npm packages from the lockfile, then builds. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(cgpt gdisk grub-common grub-pc-bin debootstrap systemd-container libsystemd-dev pkg-config dosfstools mtools dbus-daemon
  e2fsprogs qemu-system-x86 qemu-utils strace util-linux squashfs-tools rpm ovmf systemd-boot binutils gcc
  prometheus-node-exporter prometheus xz-utils libubootenv-tool u-boot-tools u-boot-qemu man-db groff-base lintian rpmlint
  dpkg-dev)
missing=()
for p in "${DEBS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to apt-get install ${missing[*]}" >&2; exit 1; fi
  echo "setup: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# node_modules is rebuilt when the lockfile changes; native addons (systemd-journald) need libsystemd-dev first.
stamp=node_modules/.bootwarden-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
# The Node runtimes for the sysext and the tests on the LTS lines: a separate lockfile, so that their `node` never
# lands in node_modules/.bin (npm scripts would then run on it instead of the host's Node).
rstamp=packaging/runtime/node_modules/.bootwarden-lock
if [ ! -f "$rstamp" ] || ! cmp -s packaging/runtime/package-lock.json "$rstamp"; then
  npm ci --prefix packaging/runtime --no-audit --no-fund --loglevel=error
  cp packaging/runtime/package-lock.json "$rstamp"
fi
npm run -s build
