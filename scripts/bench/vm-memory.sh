#!/usr/bin/env bash
# The bench's cgroup figures: systemd-nspawn on a cgroup v1 host keeps no memory accounting per unit, so
# bootwarden.service's memory.current is read where it exists, in a QEMU guest (Debian 12, systemd 252, cgroup v2,
# the kernel booted directly: no boot loader to wait for). As in the nspawn bench, a normal boot (the caches warm up;
# the agent arms a trial with `bootwarden arm`), then the trial boot, blessed; IDLE seconds after the verdict the
# agent reads the unit's memory.current and memory.stat, the daemon's RssAnon and Pss, and the same for a bare node of
# the same binary started right after the verdict with only the watchdog's 15 s timer. A third boot, with
# bootwarden's units masked, gives the bound for the binary's page cache: a bare node as its first reader.
#   vm-memory.sh host|lts [IDLE]   host: the host's node with scripts/install.sh; lts: the system extension image
# Prints "BWMEM key=value" lines; exit 0 once the third boot reported. Needs root, qemu-system-x86_64, the rootfs cache.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
KIND=${1:?usage: vm-memory.sh host|lts [IDLE]} IDLE=${2:-60}
CACHE=${BOOTWARDEN_E2E_CACHE:-$REPO/.cache}
OUT=$CACHE/vm-memory-$KIND
T0=$(date +%s)
note() { printf '[%4ss] %s\n' $(($(date +%s) - T0)) "$*" >&2; }

TAR=$(bash "$REPO/scripts/e2e/vm-rootfs.sh")
RT=$OUT/root
rm -rf "$OUT"; mkdir -p "$RT"; tar -C "$RT" -xf "$TAR"
case $KIND in
  host)
    cp "$(command -v node)" "$RT/usr/bin/node"
    DESTDIR=$RT bash "$REPO/scripts/install.sh" --enable >/dev/null
    NODE=/usr/bin/node ;;
  lts)
    image=$(ls "$REPO"/dist-sysext/bootwarden-*-x86-64.raw | head -n1)
    bash "$REPO/scripts/install-sysext.sh" --root "$RT" "$image" >/dev/null
    NODE=/usr/lib/bootwarden/node ;;
  *) echo "vm-memory: host or lts, not $KIND" >&2; exit 2 ;;
esac
echo vm >"$RT/etc/hostname"
: >"$RT/etc/fstab"
mkdir -p "$RT/etc/bootwarden"
cat >"$RT/etc/bootwarden/config.yaml" <<'YAML'
bootState:
  backend: grubenv
  path: /boot/grubenv
  scheme: greenboot
assessment:
  critical:
    units: [app.service]
YAML
grub-editenv "$RT/boot/grubenv" create
cat >"$RT/etc/systemd/system/app.service" <<'UNIT'
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
UNIT
cat >"$RT/etc/systemd/system/bench-agent.service" <<UNIT
[Unit]
After=bootwarden.service
[Service]
Type=exec
ExecStart=/usr/local/bin/bench-agent $IDLE $NODE
[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$RT/usr/local/bin"
cat >"$RT/usr/local/bin/bench-agent" <<'SH'
#!/bin/sh
# Boot 1 (normal): arm a trial and power off. Boot 2 (trial): after the verdict and IDLE seconds, the figures.
# Boot 3: a bare node alone.
exec >/dev/console 2>&1
idle=$1 node=$2
cg() { cat "/sys/fs/cgroup/system.slice/$1/$2"; }
stat_of() { awk -v k="$2" '$1 == k {print $2}' "/sys/fs/cgroup/system.slice/$1/memory.stat"; }
if [ -e /var/lib/bench-measured ]; then
  # Boot 3, bootwarden's units masked: a bare node is the first in this boot to read the binary, and pays for it.
  systemd-run -q --unit=bench-first-node -p Type=exec "$node" -e 'setInterval(() => {}, 15000)'
  sleep 15
  echo "BWMEM bench-first-node.current=$(cg bench-first-node.service memory.current)" \
    "bench-first-node.anon=$(stat_of bench-first-node.service anon) bench-first-node.file=$(stat_of bench-first-node.service file)"
  echo "BWMEM-DONE"
  systemctl poweroff; exit 0
fi
bootwarden wait >/dev/null; rc=$?
# A marker, not grubenv: by the time `wait` returns bootwarden has blessed the trial and dropped boot_counter.
if [ ! -e /var/lib/bench-armed ]; then
  bootwarden arm --tries 1 >/dev/null && touch /var/lib/bench-armed && echo "BWMEM-ARMED wait=$rc"
  systemctl poweroff; exit 0
fi
systemd-run -q --unit=bench-bare-node -p Type=exec "$node" -e 'setInterval(() => {}, 15000)'
sleep "$idle"
kb() { awk -v k="$2:" '$1 == k {print $2 * 1024}' "$1"; }
for u in bootwarden bench-bare-node; do
  pid=$(systemctl show -P MainPID "$u.service")
  echo "BWMEM $u.current=$(cg "$u.service" memory.current) $u.anon=$(stat_of "$u.service" anon)" \
    "$u.file=$(stat_of "$u.service" file) $u.kernel=$(stat_of "$u.service" kernel)" \
    "$u.rssAnon=$(kb "/proc/$pid/status" RssAnon) $u.rss=$(kb "/proc/$pid/status" VmRSS)" \
    "$u.pss=$(kb "/proc/$pid/smaps_rollup" Pss) $u.anonHuge=$(kb "/proc/$pid/smaps_rollup" AnonHugePages)"
done
# Debian's kernel backs anonymous memory with transparent huge pages always (this kernel's own setting, beside).
echo "BWMEM thp=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled)"
# How much of the binary this boot has read into the page cache (fincore), bootwarden first.
echo "BWMEM binaryCached=$(fincore -bno RES "$(readlink -f "$node")")"
echo "BWMEM wait=$rc blessed=$(grep -c '^boot_success=1' /boot/grubenv) idle=$idle node=$($node --version)"
systemctl mask -q bootwarden.service bootwarden-verdict.service bootwarden-catalog.service bootwarden-backstop.timer
touch /var/lib/bench-measured
systemctl poweroff
SH
chmod 0755 "$RT/usr/local/bin/bench-agent"
. "$REPO/scripts/e2e/vm-guest.sh"
guest_enable "$RT" app.service bench-agent.service
kernel=$(ls "$RT"/boot/vmlinuz-* | head -n1) initrd=$(ls "$RT"/boot/initrd.img-* | head -n1)
cp "$kernel" "$OUT/vmlinuz"; cp "$initrd" "$OUT/initrd.img"
mkfs.ext4 -q -F -L root -d "$RT" "$OUT/root.img" 1200M
rm -rf "$RT"
note "guest ready ($KIND)"

: >"$OUT/serial.log"
for n in 1 2 3; do
  timeout $((240 + IDLE)) qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nodefaults -no-user-config \
    -display none -monitor none -serial stdio -no-reboot -kernel "$OUT/vmlinuz" -initrd "$OUT/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0,115200 quiet loglevel=3 fsck.mode=skip systemd.firstboot=off systemd.show_status=false" \
    -drive file="$OUT/root.img",format=raw,if=virtio,cache=unsafe </dev/null 2>>"$OUT/qemu.err" |
    tr -d '\r' >>"$OUT/serial.log" || true
  note "boot $n ended"
done
grep -a '^BWMEM' "$OUT/serial.log" || true
grep -aq '^BWMEM-DONE' "$OUT/serial.log"
