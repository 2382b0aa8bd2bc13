#!/usr/bin/env bash
# The QEMU tiers' guest: Debian 12 minbase with a kernel and a small initrd for virtio, built once and cached as a
# tarball. Prints the tarball's path. The GRUB and the BLS tiers may start together: one builds, the other waits.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${BOOTWARDEN_E2E_CACHE:-$REPO/.cache}
note() { printf 'vm-rootfs: %s\n' "$*" >&2; }
TAR=$CACHE/vm-rootfs.tar
mkdir -p "$CACHE"
exec 8>"$CACHE/vm-rootfs.lock"
flock 8 # the GRUB and the BLS tiers share this rootfs and may start together
if [ ! -f "$TAR" ]; then
  note "debootstrap with a kernel (once; cached in $TAR)"
  tmp=$CACHE/vm-rootfs.tmp
  if [ ! -f "$tmp/.debootstrap-ok" ]; then
    rm -rf "$tmp"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,udev,kmod,linux-image-amd64 bookworm "$tmp" \
      >"$CACHE/vm-debootstrap.log" 2>&1
    touch "$tmp/.debootstrap-ok"
  fi
  kver=$(ls "$tmp/lib/modules"); mods=$tmp/lib/modules/$kver/kernel
  # Drop what a virtio guest never loads: smaller image, faster mkfs.
  rm -rf "$mods"/sound "$mods"/drivers/{gpu,media,net/wireless,infiniband,staging,iio,bluetooth,isdn,usb,mmc} \
    "$mods"/net/{wireless,bluetooth,mac80211} "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
  chroot "$tmp" depmod -a "$kver"
  sed -i 's/^MODULES=.*/MODULES=list/' "$tmp/etc/initramfs-tools/initramfs.conf"
  printf '%s\n' virtio_pci virtio_blk ext4 vfat nls_cp437 nls_ascii >>"$tmp/etc/initramfs-tools/modules"
  chroot "$tmp" update-initramfs -u -k "$kver" >/dev/null 2>&1
  rm -f "$tmp/.debootstrap-ok"
  tar -C "$tmp" -cf "$TAR.part" . && mv "$TAR.part" "$TAR"
  rm -rf "$tmp"
fi

echo "$TAR"
