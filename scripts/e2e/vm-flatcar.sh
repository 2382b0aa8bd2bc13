#!/usr/bin/env bash
# Tier 4 end to end: the GRUB Flatcar ships (2.12-flatcar4 with its gpt/gptprio patches, i386-pc, from
# test/fixtures/flatcar-grub) on a GPT disk with Flatcar's partition numbers and type GUIDs: EFI-SYSTEM, BIOS-BOOT
# (core.img), USR-A and USR-B. Its grub.cfg runs `gptprio.next -d usr_device -u usr_uuid` as Flatcar's does and boots
# the chosen slot with `mount.usr=PARTUUID=...` on the command line; each slot holds a whole Debian guest with
# bootwarden (backend gpt on /dev/vda, the booted slot read from that command line). Plans, in order, on one disk:
#   healthy  the host arms USR-B (bootwarden arm); the trial is blessed; the next boot is B again (gptprio keeps it)
#   bad      the host arms USR-A; its app fails; bootwarden marks it bad and reboots; GRUB boots B, which reports it
#   hang     the host arms USR-A again; its app never starts and the daemon is stopped (SIGSTOP), so there is no
#            verdict; the backstop rolls it back at the deadline; GRUB boots B
# After every boot the host reads both slots' attributes with cgpt into $OUT/attrs.log; the serial console of each
# plan goes to $OUT/serial-<plan>.log. Exit 0 when every plan finished. Needs root (chroot, unshare).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${BOOTWARDEN_E2E_CACHE:-$REPO/.cache}
OUT=${OUT:-$CACHE/vm-flatcar}
FIX=$REPO/test/fixtures/flatcar-grub # see its FIXTURE.md: provenance, licence, source
ROOTMB=${ROOTMB:-700}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
T0=$(date +%s)
note() { printf '[%4ss] %s\n' $(( $(date +%s) - T0 )) "$*"; }
for f in "$FIX/make-gptprio-disk.sh" "$FIX/flatcar-grub-i386-pc.tar.xz"; do
  [ -f "$f" ] || { echo "vm-flatcar: $f missing (the Flatcar GRUB fixture)" >&2; exit 1; }
done
TAR=$(bash "$REPO/scripts/e2e/vm-rootfs.sh")
USR_A=7130c94a-213a-4e5a-8e26-6cce9662f132 # make-gptprio-disk.sh's, as Flatcar's images have them
USR_B=e03dd35c-7c2d-4a47-b3fe-27f15780a57c
USR_TYPE=5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6

# ---- guest: bootwarden (gpt), an app that succeeds, fails or never starts as the plan says, a test agent ----------
B=$OUT/build; RT=$B/root
rm -rf "$B"; mkdir -p "$OUT"
. "$REPO/scripts/e2e/vm-guest.sh"
guest_root "$RT"
# No ESP mount (the gpt backend writes the disk itself). bootwarden's records live on ROOT (partition 9), shared by
# both USR slots as Flatcar's /var is: the slot that falls back reads what the failed trial recorded.
echo 'PARTLABEL=ROOT /var/lib/bootwarden ext4 defaults 0 0' >"$RT/etc/fstab"
cat >"$RT/etc/bootwarden/config.yaml" <<'YAML'
bootState:
  backend: gpt
  disk: /dev/vda
assessment:
  deadline: 30s
  critical:
    units: [app.service]
YAML
# The slot as Flatcar's command line names it; the plan's verdict for it from GRUB's test environment block.
cat >"$RT/usr/local/lib/bwtest.sh" <<'SH'
usr=$(sed -n 's/.*mount\.usr=PARTUUID=\([0-9a-f-]*\).*/\1/p' /proc/cmdline)
case $usr in 7130c94a*) slot=A ;; e03dd35c*) slot=B ;; *) slot=? ;; esac
SH
mkdir -p "$RT/etc/systemd/system/app.service.d"
printf '[Service]\nType=oneshot\nRemainAfterExit=yes\nTimeoutStartSec=infinity\n' \
  >"$RT/etc/systemd/system/app.service.d/plan.conf"
cat >"$RT/usr/local/bin/test-app" <<'SH'
#!/bin/sh
. /usr/local/lib/bwtest.sh
grep -q "bw_fail=$usr" /proc/cmdline && { echo "app: broken on $slot"; exit 1; }
if grep -q "bw_hang=$usr" /proc/cmdline; then
  # A hang of the whole assessment: the daemon is stopped (SIGSTOP) and never decides; only the backstop is left.
  for i in $(seq 150); do pid=$(systemctl show -p MainPID --value bootwarden.service); [ "$pid" -gt 0 ] && break; sleep 0.2; done
  echo "app: hanging on $slot, and bootwarden's daemon (pid $pid) stopped"
  echo "BWTEST: booted slot=$slot (the test agent, ordered after bootwarden, never starts)" >/dev/console
  kill -STOP "$pid"
  exec sleep infinity
fi
echo "app: up on $slot"
SH
cat >"$RT/usr/local/bin/test-agent" <<'SH'
#!/bin/sh
# Reports each boot on the serial console; powers off once the boot is healthy (an unhealthy one reboots itself).
exec >/dev/console 2>&1
. /usr/local/lib/bwtest.sh
echo "BWTEST: booted slot=$slot"
bootwarden wait; rc=$?
echo "BWTEST: slot=$slot wait=$rc"
journalctl -b -u bootwarden -o cat --no-pager | sed 's/^/BWLOG: /'
if [ $rc = 0 ]; then sync; echo "BWTEST: SCENARIO-DONE"; systemctl poweroff; fi
SH
chmod 0755 "$RT/usr/local/bin/test-app" "$RT/usr/local/bin/test-agent"
guest_enable "$RT" app.service test-agent.service
note "guest rootfs ready"

# ---- the disk: Flatcar's GRUB installed as Flatcar's grub_install.sh does, then the slots made room for the guest --
cd "$B"
cat >grub.cfg <<'CFG'
# Flatcar's build_library/grub.cfg in short: gptprio.next picks the USR slot, the kernel gets mount.usr=PARTUUID=.
set prefix=($root)/flatcar/grub
serial com0 --speed=115200 --word=8 --parity=no
terminal_input serial_com0
terminal_output serial_com0
insmod ext2
insmod linux
insmod loadenv
# The test's plan (which slot's app fails or hangs), from an environment block on the ESP.
load_env -f ($root)/bwtest.env
gptprio.next -d usr_device -u usr_uuid
if [ $? -ne 0 -o -z "$usr_uuid" ]; then
  echo "FLATCAR-BOOT: no bootable USR slot"
  halt
fi
echo "FLATCAR-BOOT: device=$usr_device uuid=$usr_uuid"
linux ($usr_device)/vmlinuz root=PARTUUID=$usr_uuid mount.usr=PARTUUID=$usr_uuid rw console=ttyS0,115200 bw_fail=$bw_fail bw_hang=$bw_hang quiet loglevel=3 fsck.mode=skip systemd.firstboot=off systemd.show_status=false systemd.journald.forward_to_console=1 systemd.journald.max_level_console=warning
initrd ($usr_device)/initrd.img
boot
CFG
bash "$FIX/make-gptprio-disk.sh" -t i386-pc -c grub.cfg -s 64 disk.img >/dev/null
# Room for a whole guest in each USR slot: the same numbers, labels, types and UUIDs, larger.
truncate -s $((64 + 2 * ROOTMB + 16 + 2))M disk.img
sgdisk -e -d 3 -d 4 \
  -n "3:0:+${ROOTMB}M" -t 3:$USR_TYPE -c 3:USR-A -u 3:$USR_A \
  -n "4:0:+${ROOTMB}M" -t 4:$USR_TYPE -c 4:USR-B -u 4:$USR_B \
  -n 9:0:+16M -t 9:8300 -c 9:ROOT disk.img >/dev/null
cgpt add -i 3 -P 1 -T 0 -S 1 disk.img # a fresh Flatcar: USR-A booted and good
for s in A B; do
  mkfs.ext4 -q -F -L "usr$s" -O ^orphan_file,^metadata_csum_seed -d "$RT" "usr$s.img" "${ROOTMB}M" >/dev/null 2>&1 ||
    mkfs.ext4 -q -F -L "usr$s" -d "$RT" "usr$s.img" "${ROOTMB}M" >/dev/null
done
first() { sgdisk -i "$1" disk.img | awk '/^First sector/{print $3}'; }
put() { dd if="$1" of=disk.img bs=4M oflag=seek_bytes seek=$(($(first "$2") * 512)) conv=notrunc,sparse status=none; }
mkfs.ext4 -q -F -L ROOT root.img 16M >/dev/null
put usrA.img 3; put usrB.img 4; put root.img 9; rm -f usrA.img usrB.img root.img
ESPOFF=$(($(first 1) * 512))
note "disk image assembled"

attrs() { # the slots as cgpt reads them on the image
  local i out=""
  for i in 3 4; do
    out+="$(cgpt show -i $i -l disk.img) P$(cgpt show -i $i -P disk.img) T$(cgpt show -i $i -T disk.img) S$(cgpt show -i $i -S disk.img) "
  done
  echo "${out% }"
}
host() { # bootwarden on the host, against the image, as an updater would run it
  printf 'bootState:\n  backend: gpt\n  disk: %s\n  booted: PARTLABEL=%s\n' "$B/disk.img" "$1" >host.yaml
  shift
  node "$REPO/dist/cli.js" "$@" --config host.yaml
}
plan_env() { # GRUB's test block on the ESP: which slot's app fails or hangs
  grub-editenv bwtest.env create
  grub-editenv bwtest.env set "bw_fail=${1:-none}" "bw_hang=${2:-none}"
  MTOOLS_SKIP_CHECK=1 mcopy -o -i "disk.img@@$ESPOFF" bwtest.env ::bwtest.env
}
: >"$OUT/attrs.log"
fail=0
run_plan() { # plan, boots at most
  local plan=$1 max=$2 n log
  log=$OUT/serial-$plan.log
  : >"$log"
  echo "before $plan: $(attrs)" >>"$OUT/attrs.log"
  for n in $(seq 1 "$max"); do
    echo "QEMU-START $n" >>"$log"
    timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nodefaults -no-user-config \
      -display none -monitor none -serial stdio -no-reboot \
      -drive file=disk.img,format=raw,if=virtio,cache=unsafe </dev/null 2>>"$OUT/qemu.err" |
      tr -d '\r' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >>"$log" || true
    echo "after $plan boot $n: $(attrs)" >>"$OUT/attrs.log"
    note "plan $plan: boot $n ended: $(attrs)"
    grep -aq 'BWTEST: SCENARIO-DONE' "$log" && [ "$(grep -ac 'BWTEST: SCENARIO-DONE' "$log")" -ge "${3:-1}" ] && break
  done
  grep -aE 'QEMU-START|FLATCAR-BOOT|BWTEST|BWLOG' "$log" || true
  [ "$(grep -ac 'BWTEST: SCENARIO-DONE' "$log")" -ge "${3:-1}" ] || fail=1
}

host A arm --slot PARTLABEL=USR-B >/dev/null
plan_env
run_plan healthy 3 2 # the blessed trial, then a normal boot of B
host B arm --slot PARTLABEL=USR-A >/dev/null
plan_env "$USR_A"
run_plan bad 3
host B arm --slot PARTLABEL=USR-A >/dev/null
plan_env none "$USR_A"
run_plan hang 3
note "done"
exit $fail
