#!/usr/bin/env bash
# Tier 2 end to end: a QEMU machine (software emulation) booting a GPT disk with a BIOS GRUB, an ESP holding
# grub.cfg + grubenv, and two root slots (rootA, rootB) with bootwarden installed. GRUB counts boots with the
# snippet from packaging/grub/ (greenboot scheme). The host arms slot B with bootwarden's own CLI for 2 tries; on B
# the critical unit fails, and with `action: retry` (greenboot's own behaviour) bootwarden reboots into B once more,
# unmarked, so GRUB spends its second try; the second unhealthy verdict marks the boot bad, and GRUB must boot A
# again. Needs root.
# Prints the serial console's markers; writes $OUT/serial.log and $OUT/grubenv.final. Exit 0 when the run finished.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${BOOTWARDEN_E2E_CACHE:-$REPO/.cache}
OUT=${OUT:-$CACHE/vm-grub}
ROOTMB=${ROOTMB:-700}
MAXBOOTS=${MAXBOOTS:-4}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
T0=$(date +%s)
note() { printf '[%4ss] %s\n' $(( $(date +%s) - T0 )) "$*"; }

# ---- guest rootfs with a kernel (shared with the BLS tier, built once and cached) -------------------------
TAR=$(bash "$REPO/scripts/e2e/vm-rootfs.sh")

# ---- guest: bootwarden, its config, a critical unit that fails on slot B, a test agent ---------------------
B=$OUT/build; RT=$B/root
rm -rf "$B"
. "$REPO/scripts/e2e/vm-guest.sh"
guest_root "$RT"
cat >"$RT/etc/bootwarden/config.yaml" <<'YAML'
bootState:
  backend: grubenv
  path: /boot/efi/grub/grubenv
  scheme: greenboot
assessment:
  deadline: 90s
  action: retry
  critical:
    units: [app.service]
YAML
cat >"$RT/usr/local/bin/test-app" <<'SH'
#!/bin/sh
slot=$(sed -n 's/.*grub_slot=\([AB]\).*/\1/p' /proc/cmdline)
[ "$slot" = B ] && { echo "app: broken on slot $slot"; exit 1; }
echo "app: up on slot $slot"; exec sleep infinity
SH
cat >"$RT/usr/local/bin/test-agent" <<'SH'
#!/bin/sh
# Reports each boot on the serial console; powers off once the boot is healthy (an unhealthy one reboots itself).
exec >/dev/console 2>&1
slot=$(sed -n 's/.*grub_slot=\([AB]\).*/\1/p' /proc/cmdline)
echo "BWTEST: booted slot=$slot"
bootwarden wait; rc=$?
echo "BWTEST: slot=$slot wait=$rc"
journalctl -b -u bootwarden -o cat --no-pager | sed 's/^/BWLOG: /'
if [ $rc = 0 ]; then echo "BWTEST: SCENARIO-DONE"; systemctl poweroff; fi
SH
chmod 0755 "$RT/usr/local/bin/test-app" "$RT/usr/local/bin/test-agent"
guest_enable "$RT" app.service test-agent.service
note "guest rootfs ready"

# ---- root slots, ESP with grub.cfg (our counting snippet) and grubenv ---------------------------------------
cd "$B"
for s in A B; do
  mkfs.ext4 -q -F -L "root$s" -O ^orphan_file,^metadata_csum_seed -d "$RT" "root$s.img" "${ROOTMB}M" 2>/dev/null ||
    mkfs.ext4 -q -F -L "root$s" -d "$RT" "root$s.img" "${ROOTMB}M"
done
{
  cat <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
load_env next_slot
if [ -z "${next_slot}" ]; then set next_slot=A; fi
set default="${next_slot}"
CFG
  bash "$REPO/packaging/grub/08_bootwarden_counting"
  cat <<'CFG'
# bootwarden's warnings and errors (verdict unhealthy, slot marked bad, reboot) reach the serial console too.
set console_log="systemd.journald.forward_to_console=1 systemd.journald.max_level_console=warning"
export console_log
echo "GRUB-BOOT default=${default} boot_counter=${boot_counter} boot_success=${boot_success}"
menuentry "slot A" --id A {
  set root=(hd0,gpt3)
  linux /vmlinuz root=PARTLABEL=rootA rw console=ttyS0,115200 grub_slot=A quiet loglevel=3 fsck.mode=skip systemd.firstboot=off systemd.show_status=false $console_log
  initrd /initrd.img
}
menuentry "slot B" --id B {
  set root=(hd0,gpt4)
  linux /vmlinuz root=PARTLABEL=rootB rw console=ttyS0,115200 grub_slot=B quiet loglevel=3 fsck.mode=skip systemd.firstboot=off systemd.show_status=false $console_log
  initrd /initrd.img
}
CFG
} >grub.cfg
grub-editenv grubenv create
# The updater: B is the new default with A to fall back to, armed by bootwarden itself with two tries.
grub-editenv grubenv set next_slot=B bootwarden_fallback=A
printf 'bootState:\n  backend: grubenv\n  path: %s\n  scheme: greenboot\n' "$B/grubenv" >host.yaml
node "$REPO/dist/cli.js" arm --tries 2 --config host.yaml
MODS="part_gpt fat ext2 normal configfile loadenv test echo linux serial terminal terminfo reboot halt"
grub-mkimage -O i386-pc -p '(hd0,gpt2)/grub' -o core.img biosdisk $MODS
mkfs.vfat -C -n ESP esp.img $((32 * 1024)) >/dev/null
mmd -i esp.img ::/grub
mcopy -i esp.img grub.cfg grubenv ::/grub/

# ---- GPT disk assembled with dd (no loop devices), BIOS boot code patched to find core.img -------------------
truncate -s $((2 + 1 + 32 + 2 * ROOTMB + 1))M disk.img
sgdisk -o -n 1:2048:+1M -t 1:EF02 -c 1:bios -n 2:0:+32M -t 2:EF00 -c 2:esp \
  -n "3:0:+${ROOTMB}M" -t 3:8304 -c 3:rootA -n "4:0:+${ROOTMB}M" -t 4:8304 -c 4:rootB disk.img >/dev/null
first() { sgdisk -i "$1" disk.img | awk '/^First sector/{print $3}'; }
put() { dd if="$1" of=disk.img bs=4M oflag=seek_bytes seek=$(($(first "$2") * 512)) conv=notrunc,sparse status=none; }
put core.img 1; put esp.img 2; put rootA.img 3; put rootB.img 4
le64() { printf '%016x' "$1" | sed -E 's/(..)(..)(..)(..)(..)(..)(..)(..)/\\x\8\\x\7\\x\6\\x\5\\x\4\\x\3\\x\2\\x\1/'; }
core=$(first 1)
dd if=/usr/lib/grub/i386-pc/boot.img of=disk.img bs=440 count=1 conv=notrunc status=none
printf "$(le64 "$core")" | dd of=disk.img bs=1 seek=$((0x5c)) conv=notrunc status=none
printf '\x90\x90' | dd of=disk.img bs=1 seek=$((0x66)) conv=notrunc status=none
printf "$(le64 $((core + 1)))" | dd of=disk.img bs=1 seek=$((core * 512 + 0x1f4)) conv=notrunc status=none
rm -f rootA.img rootB.img esp.img
note "disk image assembled"

# ---- boots: a fresh qemu per boot (-no-reboot), until the agent reports the scenario done ---------------------
: >"$OUT/serial.log"
for n in $(seq 1 "$MAXBOOTS"); do
  echo "QEMU-START $n" >>"$OUT/serial.log"
  timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nodefaults -no-user-config \
    -display none -monitor none -serial stdio -no-reboot \
    -drive file=disk.img,format=raw,if=virtio,cache=unsafe </dev/null 2>>"$OUT/qemu.err" |
    tr -d '\r' >>"$OUT/serial.log" || true
  note "boot $n ended"
  grep -aq 'BWTEST: SCENARIO-DONE' "$OUT/serial.log" && break
done
esp=$(($(first 2) * 512))
mtype -i "disk.img@@$esp" ::/grub/grubenv >"$OUT/grubenv.final"
grep -aE 'QEMU-START|GRUB-BOOT|BWTEST|BWLOG' "$OUT/serial.log" || true
note "done"
