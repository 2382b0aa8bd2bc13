#!/usr/bin/env bash
# Tier 3 end to end: QEMU (software emulation) with OVMF and systemd-boot 252 booting a GPT disk whose ESP holds
# two entries, a.conf (rootA) and a counted trial of B, with bootwarden installed in both root slots (backend bls).
# Plans (PLANS="healthy bad uki"):
#   healthy  b+2.conf: the critical unit is fine on B; bootwarden blesses the entry (b.conf); systemd-bless-boot
#            stands aside (its drop-in); the next boot is B again, uncounted.
#   bad      b+2.conf: the critical unit fails on B; bootwarden marks it b+0-1.conf and reboots; systemd-boot starts A,
#            where bootwarden reports the failed trial.
#   uki      the same with B as a unified kernel image, EFI/Linux/b+2.efi.
#   kairos   Kairos' Trusted Boot layout: UKIs EFI/kairos/active.efi (B) and passive.efi (A), Type #1 entries
#            loader/entries/active+3.conf and passive.conf ("efi /EFI/kairos/...efi"), loader.conf "default
#            active+3.conf"; the critical unit fails on B: marked bad, systemd-boot starts passive, which reports it.
#   retry    b+2.conf with `action: retry` (a config.d drop-in for this plan): the first unhealthy try reboots into
#            B unmarked (b+1-1 -> b+0-2 by systemd-boot), the last one rolls back; systemd-boot starts A.
# Prints the serial console's markers per plan; writes $OUT/serial-<plan>.log and $OUT/esp-<plan>.final (the ESP's
# entries read back on the host). Exit 0 when every plan finished. Needs root.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${BOOTWARDEN_E2E_CACHE:-$REPO/.cache}
OUT=${OUT:-$CACHE/vm-bls}
ROOTMB=${ROOTMB:-700}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
PLANS=${PLANS:-healthy bad uki kairos retry}
SDBOOT=/usr/lib/systemd/boot/efi
T0=$(date +%s)
note() { printf '[%4ss] %s\n' $(( $(date +%s) - T0 )) "$*"; }
for f in "$SDBOOT/systemd-bootx64.efi" "$SDBOOT/linuxx64.efi.stub" /usr/share/OVMF/OVMF_CODE_4M.fd; do
  [ -f "$f" ] || { echo "vm-bls: $f missing: run scripts/setup.sh (systemd-boot, ovmf)" >&2; exit 1; }
done
TAR=$(bash "$REPO/scripts/e2e/vm-rootfs.sh")

# ---- guest: bootwarden (backend bls), a critical unit that fails on slot B when the plan says so, a test agent --
B=$OUT/build; RT=$B/root
rm -rf "$B"
. "$REPO/scripts/e2e/vm-guest.sh"
guest_root "$RT"
cat >"$RT/etc/bootwarden/config.yaml" <<'YAML'
bootState:
  backend: bls
  esp: /boot/efi
assessment:
  deadline: 90s
  critical:
    units: [app.service]
YAML
# What the test scripts share: the booted slot (from the kernel command line) and the ESP's entries.
mkdir -p "$RT/usr/local/lib"
cat >"$RT/usr/local/lib/bwtest.sh" <<'SH'
slot=$(sed -n 's/.*bw_slot=\([AB]\).*/\1/p' /proc/cmdline)
ents() { ls -1 /boot/efi/loader/entries /boot/efi/EFI/Linux 2>/dev/null | grep -v ':$' | grep . | sort | tr '\n' ',' | sed 's/,$//'; }
SH
cat >"$RT/usr/local/bin/test-app" <<'SH'
#!/bin/sh
. /usr/local/lib/bwtest.sh
plan=$(sed -n 's/.*bw_plan=\([a-z]*\).*/\1/p' /proc/cmdline)
[ "$slot" = B ] && [ "$plan" != healthy ] && { echo "app: broken on slot $slot"; exit 1; }
echo "app: up on slot $slot"; exec sleep infinity
SH
cat >"$RT/usr/local/bin/test-agent" <<'SH'
#!/bin/sh
# Reports each boot on the serial console; powers off once the boot is healthy (an unhealthy one reboots itself).
exec >/dev/console 2>&1
. /usr/local/lib/bwtest.sh
bootwarden wait; rc=$?
bootwarden status --json | sed 's/^/BWSTATUS: /'
# systemd-bless-boot (enabled by its generator on counted boots) is one of the boot's jobs: give it its turn by
# waiting for them all. (Polling for boot-complete.target cost 30 s a boot: in these boots nothing pulls it in.)
[ $rc = 0 ] && timeout 120 systemctl is-system-running --wait >/dev/null
echo "BWTEST: slot=$slot wait=$rc entries=$(ents) bless-boot=$(systemctl show -p ConditionResult -p ConditionTimestampMonotonic -p ActiveState systemd-bless-boot.service | tr '\n' ' ')"
journalctl -b -u bootwarden -o cat --no-pager | sed 's/^/BWLOG: /'
journalctl -b -u systemd-bless-boot -o cat --no-pager | grep -v '^-- ' | sed 's/^/BWBLESS: /'
if [ $rc = 0 ]; then sync; echo "BWTEST: SCENARIO-DONE"; systemctl poweroff; fi
SH
# The entries as systemd-boot left them, read before bootwarden starts: a verdict right after its READY renames them
# before an agent ordered after it could look.
cat >"$RT/usr/local/bin/test-entries" <<'SH'
#!/bin/sh
. /usr/local/lib/bwtest.sh
echo "BWTEST: booted slot=$slot entries=$(ents)" >/dev/console
SH
# The plan's config: `action: retry` in a config.d drop-in for the retry plan only (the root slots serve every plan).
cat >"$RT/usr/local/bin/test-plan" <<'SH'
#!/bin/sh
mkdir -p /etc/bootwarden/config.d
if grep -q 'bw_plan=retry' /proc/cmdline; then
  printf 'assessment:\n  action: retry\n' >/etc/bootwarden/config.d/plan.yaml
else
  rm -f /etc/bootwarden/config.d/plan.yaml
fi
SH
cat >"$RT/etc/systemd/system/test-plan.service" <<'UNIT'
[Unit]
Description=Test: this plan's bootwarden config
DefaultDependencies=no
After=local-fs.target
Before=bootwarden.service bootwarden-backstop.service sysinit.target
[Service]
Type=oneshot
ExecStart=/usr/local/bin/test-plan
[Install]
WantedBy=sysinit.target
UNIT
# At every shutdown (a reboot after a verdict, or the agent's poweroff): the entry `status` says systemd-boot starts
# next, with the entries as bootwarden left them; the next boot shows which one the loader started. Started before
# bootwarden: a unit whose start job a quick verdict's reboot cancels has no ExecStop to run (a CI run lost one so).
cat >"$RT/usr/local/bin/test-next" <<'SH'
#!/bin/sh
exec >/dev/console 2>&1
echo "BWNEXT: $(bootwarden status --json | sed -n 's/.*"nextBoot":"\([^"]*\)".*/\1/p')"
SH
cat >"$RT/etc/systemd/system/test-next.service" <<'UNIT'
[Unit]
Description=Test: the next boot as bootwarden predicts it, printed at shutdown
Before=bootwarden.service
After=dbus.service
RequiresMountsFor=/boot/efi
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/usr/local/bin/test-next
[Install]
WantedBy=multi-user.target
UNIT
chmod 0755 "$RT/usr/local/bin/test-app" "$RT/usr/local/bin/test-agent" "$RT/usr/local/bin/test-entries" \
  "$RT/usr/local/bin/test-plan" "$RT/usr/local/bin/test-next"
cat >"$RT/etc/systemd/system/test-entries.service" <<'UNIT'
[Unit]
Description=Test: the boot entries before bootwarden starts
Before=bootwarden.service
RequiresMountsFor=/boot/efi
[Service]
Type=oneshot
ExecStart=/usr/local/bin/test-entries
[Install]
WantedBy=multi-user.target
UNIT
guest_enable "$RT" app.service test-agent.service test-entries.service test-plan.service test-next.service
note "guest rootfs ready"

# ---- GPT disk: ESP + rootA + rootB, assembled with dd (no loop devices); the ESP is written per plan -----------
cd "$B"
for s in A B; do
  mkfs.ext4 -q -F -L "root$s" -O ^orphan_file,^metadata_csum_seed -d "$RT" "root$s.img" "${ROOTMB}M" 2>/dev/null ||
    mkfs.ext4 -q -F -L "root$s" -d "$RT" "root$s.img" "${ROOTMB}M"
done
truncate -s $((1 + 64 + 2 * ROOTMB + 1))M disk.img
sgdisk -o -n 1:2048:+64M -t 1:EF00 -c 1:esp -n "2:0:+${ROOTMB}M" -t 2:8304 -c 2:rootA \
  -n "3:0:+${ROOTMB}M" -t 3:8304 -c 3:rootB disk.img >/dev/null
first() { sgdisk -i "$1" disk.img | awk '/^First sector/{print $3}'; }
put() { dd if="$1" of=disk.img bs=4M oflag=seek_bytes seek=$(($(first "$2") * 512)) conv=notrunc,sparse status=none; }
put rootA.img 2; put rootB.img 3; rm -f rootA.img rootB.img
ESPOFF=$(($(first 1) * 512))
note "disk image assembled"

uki() { # slot plan out: a UKI the 252 way (no ukify): the stub with the kernel, initrd, command line, os-release
  local q="quiet loglevel=3 systemd.show_status=false fsck.mode=skip systemd.firstboot=off"
  q="$q systemd.journald.forward_to_console=1 systemd.journald.max_level_console=warning"
  printf '%s' "root=PARTLABEL=root$1 rw console=ttyS0,115200 $q bw_slot=$1 bw_plan=$2" >cmdline.txt
  objcopy --add-section .osrel="$RT/usr/lib/os-release" --change-section-vma .osrel=0x20000 \
    --add-section .cmdline=cmdline.txt --change-section-vma .cmdline=0x30000 \
    --add-section .linux="$(echo "$RT"/boot/vmlinuz-*)" --change-section-vma .linux=0x2000000 \
    --add-section .initrd="$(echo "$RT"/boot/initrd.img-*)" --change-section-vma .initrd=0x3000000 \
    "$SDBOOT/linuxx64.efi.stub" "$3"
}
mkesp() { # plan, B's entry file (.conf: Type #1; .efi: a UKI in EFI/Linux)
  rm -f esp.img; mkfs.vfat -F 32 -C -n ESP esp.img $((64 * 1024)) >/dev/null
  mmd -i esp.img ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader ::/loader/entries
  mcopy -i esp.img "$SDBOOT/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
  mcopy -i esp.img "$RT"/boot/vmlinuz-* ::/vmlinuz; mcopy -i esp.img "$RT"/boot/initrd.img-* ::/initrd.img
  printf 'timeout 0\neditor no\n' >loader.conf; mcopy -i esp.img loader.conf ::/loader/
  local s f o q="quiet loglevel=3 systemd.show_status=false fsck.mode=skip systemd.firstboot=off"
  q="$q systemd.journald.forward_to_console=1 systemd.journald.max_level_console=warning"
  if [ "$1" = kairos ]; then
    mmd -i esp.img ::/EFI/kairos
    printf 'timeout 0\neditor no\ndefault active+3.conf\n' >loader.conf; mcopy -o -i esp.img loader.conf ::/loader/
    for s in A B; do
      f=passive; [ $s = B ] && f=active
      uki "$s" "$1" uki.efi; mcopy -i esp.img uki.efi "::/EFI/kairos/$f.efi"
      printf 'title Kairos\nefi /EFI/kairos/%s.efi\n' "$f" >entry.conf
      [ $s = B ] && f=active+3
      mcopy -i esp.img entry.conf "::/loader/entries/$f.conf"
    done
    put esp.img 1; cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
    return
  fi
  for s in A B; do
    f=a.conf; [ $s = B ] && f=$2
    o="root=PARTLABEL=root$s rw console=ttyS0,115200 $q bw_slot=$s bw_plan=$1"
    if [ "${f%.efi}" != "$f" ]; then
      uki "$s" "$1" uki.efi; mcopy -i esp.img uki.efi "::/EFI/Linux/$f"
      continue
    fi
    printf 'title slot %s\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s\n' "$s" "$o" >entry.conf
    mcopy -i esp.img entry.conf "::/loader/entries/$f"
  done
  put esp.img 1; cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
}

fail=0
for plan in $PLANS; do
  case $plan in healthy | bad | retry) bent=b+2.conf ;; uki) bent=b+2.efi ;; kairos) bent= ;; *) echo "vm-bls: unknown plan $plan" >&2; exit 2 ;; esac
  mkesp "$plan" "$bent"
  log=$OUT/serial-$plan.log; : >"$log"
  for n in 1 2 3 4; do
    echo "QEMU-START $n" >>"$log"
    timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nodefaults -no-user-config \
      -display none -monitor none -serial stdio -no-reboot \
      -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive if=pflash,format=raw,file=vars.fd \
      -drive file=disk.img,format=raw,if=virtio,cache=unsafe </dev/null 2>>"$OUT/qemu.err" |
      tr -d '\r' | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' >>"$log" || true
    note "plan $plan: boot $n ended"
    grep -aq 'BWTEST: SCENARIO-DONE' "$log" && break
  done
  { mdir -b -i "disk.img@@$ESPOFF" ::/loader/entries; mdir -b -i "disk.img@@$ESPOFF" ::/EFI/Linux; } 2>/dev/null |
    sed 's#.*/##' | grep . | sort | tr '\n' ',' | sed 's/,$//' >"$OUT/esp-$plan.final"
  echo "=== plan $plan: ESP entries at the end: $(cat "$OUT/esp-$plan.final")"
  grep -aE 'QEMU-START|BWTEST|BWSTATUS|BWLOG|BWNEXT' "$log" || true
  grep -aq 'BWTEST: SCENARIO-DONE' "$log" || fail=1
done
note "done"
exit $fail
