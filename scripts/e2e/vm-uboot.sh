#!/usr/bin/env bash
# Tier 2 end to end: a real U-Boot (Debian's qemu-x86 u-boot.rom) under QEMU, counting RAUC-style in a boot script
# (BOOT_ORDER, BOOT_<slot>_LEFT in a single-copy env on its own partition), and two root slots with bootwarden
# (`backend: uboot`, `scheme: rauc`, /etc/fw_env.config). The host arms B with bootwarden's CLI for one try.
#   boot 1: U-Boot takes B's last try; the trial is healthy and bootwarden blesses it (BOOT_B_LEFT back to 3); the
#           test agent then breaks the app on B and reboots.
#   boot 2: U-Boot boots B again (it would have fallen back to A had the bless not been written); the trial fails;
#           bootwarden marks B bad (out of BOOT_ORDER, 0 left) and reboots.
#   boot 3: U-Boot boots A; bootwarden reports the failed trial of B (its records are on a data partition both
#           slots mount) and blesses A (RAUC's every boot is a trial).
# Needs root. Prints the serial console's markers; writes $OUT/serial.log and $OUT/env.final (the env partition).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${BOOTWARDEN_E2E_CACHE:-$REPO/.cache}
OUT=${OUT:-$CACHE/vm-uboot}
ROOTMB=${ROOTMB:-700}
MAXBOOTS=${MAXBOOTS:-4}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-240}
ROM=/usr/lib/u-boot/qemu-x86/u-boot.rom
ENV_LBA=67584 # the uboot-env partition's first sector; the env is its first 16 KiB
T0=$(date +%s)
note() { printf '[%4ss] %s\n' $(( $(date +%s) - T0 )) "$*"; }
[ -f "$ROM" ] || { echo "vm-uboot: $ROM missing (apt-get install u-boot-qemu)" >&2; exit 1; }

TAR=$(bash "$REPO/scripts/e2e/vm-rootfs.sh")

# ---- guest: bootwarden on libubootenv's config, a critical unit that fails on B once told to --------------------
B=$OUT/build; RT=$B/root
rm -rf "$B"
. "$REPO/scripts/e2e/vm-guest.sh"
guest_root "$RT"
# No ESP: U-Boot reads its script and kernel from a FAT partition the guest never mounts. bootwarden's records live
# on a data partition both slots mount (as RAUC's own status file does), so A learns of B's failed trial.
echo 'PARTLABEL=data /var/lib/bootwarden ext4 defaults 0 0' >"$RT/etc/fstab"
printf '/dev/vda 0x%x 0x4000\n' $((ENV_LBA * 512)) >"$RT/etc/fw_env.config"
cat >"$RT/etc/bootwarden/config.yaml" <<'YAML'
bootState:
  backend: uboot
  scheme: rauc
assessment:
  deadline: 90s
  critical:
    units: [app.service]
YAML
cat >"$RT/usr/local/bin/test-app" <<'SH'
#!/bin/sh
slot=$(sed -n 's/.*rauc\.slot=\([AB]\).*/\1/p' /proc/cmdline)
[ -e /var/lib/test-app-broken ] && { echo "app: broken on slot $slot"; exit 1; }
echo "app: up on slot $slot"; exec sleep infinity
SH
cat >"$RT/usr/local/bin/test-agent" <<'SH'
#!/bin/sh
# Reports each boot on the serial console. A healthy B breaks the app for its next boot and reboots; a healthy A
# ends the scenario; an unhealthy boot is rebooted by bootwarden itself.
exec >/dev/console 2>&1
slot=$(sed -n 's/.*rauc\.slot=\([AB]\).*/\1/p' /proc/cmdline)
echo "BWTEST: booted slot=$slot"
bootwarden wait; rc=$?
echo "BWTEST: slot=$slot wait=$rc"
journalctl -b -u bootwarden -o cat --no-pager | sed 's/^/BWLOG: /'
[ $rc = 0 ] || exit 0
if [ "$slot" = B ]; then
  touch /var/lib/test-app-broken; sync
  echo "BWTEST: B healthy; breaking the app for the next boot"; systemctl reboot
else
  echo "BWTEST: SCENARIO-DONE"; systemctl poweroff
fi
SH
chmod 0755 "$RT/usr/local/bin/test-app" "$RT/usr/local/bin/test-agent"
guest_enable "$RT" app.service test-agent.service
note "guest rootfs ready"

# ---- the boot script: RAUC's counting (contrib/uboot.sh), with a lookup table for the decrement (no setexpr) ---
cd "$B"
cat >boot.cmd <<CMD
setenv envaddr 0x3000000
virtio read \${envaddr} 0x$(printf '%x' $ENV_LBA) 0x20
env import -c \${envaddr} 0x4000 || echo "UBOOT: env bad crc"
setenv dec_3 2; setenv dec_2 1; setenv dec_1 0
setenv slot
for s in \${BOOT_ORDER}; do
  if test -n "\${slot}"; then
    true
  elif test "\${s}" = "A" && test 0x\${BOOT_A_LEFT} -gt 0; then
    setenv slot A; setenv cmd "setenv BOOT_A_LEFT \\\${dec_\${BOOT_A_LEFT}}"; run cmd
  elif test "\${s}" = "B" && test 0x\${BOOT_B_LEFT} -gt 0; then
    setenv slot B; setenv cmd "setenv BOOT_B_LEFT \\\${dec_\${BOOT_B_LEFT}}"; run cmd
  fi
done
if test -z "\${slot}"; then echo "UBOOT: no slot left; tries reset"; setenv BOOT_A_LEFT 3; setenv BOOT_B_LEFT 3; reset; fi
echo "UBOOT-BOOT slot=\${slot} order=\${BOOT_ORDER} A_LEFT=\${BOOT_A_LEFT} B_LEFT=\${BOOT_B_LEFT}"
env export -c -s 0x4000 \${envaddr} BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT
virtio write \${envaddr} 0x$(printf '%x' $ENV_LBA) 0x20
load virtio 0:1 \${kernel_addr_r} vmlinuz
load virtio 0:1 \${ramdisk_addr_r} initrd.img
setenv bootargs "root=PARTLABEL=root\${slot} rw rauc.slot=\${slot} console=ttyS0,115200 quiet loglevel=3 fsck.mode=skip systemd.firstboot=off systemd.show_status=false systemd.journald.forward_to_console=1 systemd.journald.max_level_console=warning"
zboot \${kernel_addr_r} 0 \${ramdisk_addr_r} \${filesize}
CMD
mkimage -A x86 -O linux -T script -C none -d boot.cmd boot.scr >/dev/null
mkfs.vfat -C -n BOOT boot.img $((32 * 1024)) >/dev/null
mcopy -i boot.img boot.scr ::/
mcopy -i boot.img "$(readlink -f "$RT/vmlinuz")" ::/vmlinuz
mcopy -i boot.img "$(readlink -f "$RT/initrd.img")" ::/initrd.img

# ---- the env: U-Boot's three variables, then B armed by bootwarden itself (the installer's step) --------------
printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >env.txt
mkenvimage -s 0x4000 -o env.bin env.txt
printf '%s/env.bin 0x0 0x4000\n' "$B" >fw_env.config
printf 'bootState:\n  backend: uboot\n  scheme: rauc\n  envConfig: %s\n' "$B/fw_env.config" >host.yaml
node "$REPO/dist/cli.js" arm --slot B --tries 1 --config host.yaml
[ "$(fw_printenv -c fw_env.config -n BOOT_ORDER)" = "B A" ] # libubootenv reads what bootwarden wrote

# ---- GPT disk assembled with dd: boot (FAT), uboot-env (raw), rootA, rootB, data ---------------------------------
for s in A B; do
  mkfs.ext4 -q -F -L "root$s" -O ^orphan_file,^metadata_csum_seed -d "$RT" "root$s.img" "${ROOTMB}M" 2>/dev/null ||
    mkfs.ext4 -q -F -L "root$s" -d "$RT" "root$s.img" "${ROOTMB}M"
done
mkfs.ext4 -q -F -L data data.img 16M
truncate -s $((1 + 32 + 1 + 2 * ROOTMB + 16 + 1))M disk.img
sgdisk -o -n 1:2048:$((ENV_LBA - 1)) -t 1:0700 -c 1:boot -n 2:$ENV_LBA:$((ENV_LBA + 2047)) -c 2:uboot-env \
  -n "3:0:+${ROOTMB}M" -t 3:8304 -c 3:rootA -n "4:0:+${ROOTMB}M" -t 4:8304 -c 4:rootB -n 5:0:+16M -c 5:data disk.img >/dev/null
first() { sgdisk -i "$1" disk.img | awk '/^First sector/{print $3}'; }
put() { dd if="$1" of=disk.img bs=4M oflag=seek_bytes seek=$(($(first "$2") * 512)) conv=notrunc,sparse status=none; }
put boot.img 1; put env.bin 2; put rootA.img 3; put rootB.img 4; put data.img 5
rm -f rootA.img rootB.img boot.img data.img
note "disk image assembled"

# ---- boots: a fresh qemu per boot (-no-reboot), until the agent reports the scenario done ---------------------
: >"$OUT/serial.log"
for n in $(seq 1 "$MAXBOOTS"); do
  echo "QEMU-START $n" >>"$OUT/serial.log"
  timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nodefaults -no-user-config \
    -display none -monitor none -serial stdio -no-reboot -bios "$ROM" \
    -drive file=disk.img,format=raw,if=virtio,cache=unsafe </dev/null 2>>"$OUT/qemu.err" |
    tr -d '\r' >>"$OUT/serial.log" || true
  note "boot $n ended"
  grep -aq 'BWTEST: SCENARIO-DONE' "$OUT/serial.log" && break
done
dd if=disk.img of="$OUT/env.final" bs=512 skip=$ENV_LBA count=32 status=none
grep -aE 'QEMU-START|UBOOT|BWTEST|BWLOG' "$OUT/serial.log" || true
note "done"
