# The guest set-up the QEMU tiers share (sourced by vm-grub.sh, vm-bls.sh, vm-flatcar.sh, vm-uboot.sh, and
# guest_enable by scripts/bench/vm-memory.sh; needs REPO and TAR):
#   guest_root DIR          the rootfs unpacked into DIR with the host's node, bootwarden (scripts/install.sh --enable),
#                           a hostname, the ESP in fstab, and the units of the test: app.service (the critical unit,
#                           /usr/local/bin/test-app) and test-agent.service (/usr/local/bin/test-agent, after
#                           bootwarden); each tier writes its config, test-app and test-agent.
#   guest_enable DIR UNIT…  enables the units, boots to multi-user, masks what only slows a TCG boot down.
# No 'nofail' on the ESP: it must be mounted before local-fs.target, which bootwarden waits for.
guest_root() {
  local rt=$1
  rm -rf "$rt"; mkdir -p "$rt"; tar -C "$rt" -xf "$TAR"
  cp "$(command -v node)" "$rt/usr/bin/node"
  DESTDIR=$rt bash "$REPO/scripts/install.sh" --enable >/dev/null
  echo vm >"$rt/etc/hostname"
  echo 'PARTLABEL=esp /boot/efi vfat umask=0077 0 0' >"$rt/etc/fstab"; mkdir -p "$rt/boot/efi"
  cat >"$rt/etc/systemd/system/app.service" <<'UNIT'
[Unit]
Description=Critical test application
[Service]
ExecStart=/usr/local/bin/test-app
[Install]
WantedBy=multi-user.target
UNIT
  cat >"$rt/etc/systemd/system/test-agent.service" <<'UNIT'
[Unit]
Description=Test agent
After=bootwarden.service
RequiresMountsFor=/boot/efi
[Service]
Type=exec
ExecStart=/usr/local/bin/test-agent
[Install]
WantedBy=multi-user.target
UNIT
}

guest_enable() {
  local rt=$1; shift
  chroot "$rt" systemctl -q enable "$@"
  chroot "$rt" systemctl -q set-default multi-user.target
  chroot "$rt" systemctl -q mask serial-getty@ttyS0.service getty@tty1.service systemd-logind.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer \
    systemd-timesyncd.service 2>/dev/null || true
}
