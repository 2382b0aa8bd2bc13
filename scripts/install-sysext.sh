#!/usr/bin/env bash
# Installs the bootwarden system extension into a root tree, as an image builder (or Ignition) would:
#   scripts/install-sysext.sh --root DIR [--config FILE] [--unpacked] IMAGE
# IMAGE is dist-sysext/bootwarden-<version>-x86-64.raw. It goes to DIR/var/lib/extensions/bootwarden.raw, or with
# --unpacked as the directory DIR/var/lib/extensions/bootwarden/ (for machines without loop devices, such as
# containers). systemd-sysext.service is enabled, and so are bootwarden's units: their [Install] links are written by
# hand, because the unit files only appear in /usr once the extension is merged at boot. PID 1 does not see units
# that arrive with a merge until a daemon-reload: Flatcar's ensure-sysext.service does that reload; elsewhere
# (Debian 12, systemd 252) bootwarden-sysext.service, installed into DIR/etc, reloads and starts the units.
set -euo pipefail
root="" config="" unpacked=0 image=""
while [ $# -gt 0 ]; do
  case $1 in
    --root) root=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --unpacked) unpacked=1; shift ;;
    -*) echo "install-sysext: unknown option $1" >&2; exit 2 ;;
    *) image=$1; shift ;;
  esac
done
[ -n "$root" ] && [ -n "$image" ] || { echo "usage: install-sysext.sh --root DIR [--config FILE] [--unpacked] IMAGE" >&2; exit 2; }
[ -d "$root/usr/lib/systemd" ] || { echo "install-sysext: $root has no /usr/lib/systemd: not a root tree" >&2; exit 1; }
[ -f "$image" ] || { echo "install-sysext: $image: no such image" >&2; exit 1; }
[ -z "$config" ] || [ -f "$config" ] || { echo "install-sysext: $config: no such config file" >&2; exit 1; }
die() { echo "install-sysext: $*" >&2; exit 1; }
[ -e "$root/usr/lib/systemd/system/systemd-sysext.service" ] ||
  die "$root has no systemd-sysext.service: system extensions need systemd >= 248 built with sysext"
command -v unsquashfs >/dev/null || die "unsquashfs not found (Debian: squashfs-tools)"

# Every directory written must resolve inside the root: an absolute symlink in the tree (var -> /var) would otherwise
# lead the writes onto the host that runs this script.
rootreal=$(realpath -e "$root")
inside() {
  local d
  d=$(realpath -m "$1")
  case $d in "$rootreal" | "$rootreal"/*) ;; *) die "$1 leads outside --root (to $d): refusing to write there" ;; esac
}
for d in var/lib/extensions etc/systemd/system etc/bootwarden; do inside "$root/$d"; done

# The new extension is made complete beside the old one and swapped in only then: a truncated or wrong image leaves
# a working install as it was.
ext=$root/var/lib/extensions
install -d -m 0755 "$ext"
new=$ext/.bootwarden.new
rm -rf "$new" "$ext/.bootwarden.old"
trap 'rm -rf "$new"' EXIT
if [ $unpacked = 1 ]; then
  unsquashfs -q -n -d "$new" "$image" >/dev/null 2>&1 || die "$image: cannot unpack (not a complete squashfs image?); nothing changed"
  [ -f "$new/usr/lib/extension-release.d/extension-release.bootwarden" ] ||
    die "$image: no usr/lib/extension-release.d/extension-release.bootwarden inside: not bootwarden's extension; nothing changed"
  [ ! -e "$ext/bootwarden" ] || mv -T "$ext/bootwarden" "$ext/.bootwarden.old"
  mv -T "$new" "$ext/bootwarden"
  rm -rf "$ext/.bootwarden.old" "$ext/bootwarden.raw"
  how="unpacked as the directory extension /var/lib/extensions/bootwarden/ (no loop device needed)"
else
  unsquashfs -q -l "$image" usr/lib/extension-release.d/extension-release.bootwarden 2>/dev/null |
    grep -q extension-release.bootwarden || die "$image: not a complete bootwarden extension image; nothing changed"
  install -m 0644 "$image" "$new"
  sync "$new"
  mv -T "$new" "$ext/bootwarden.raw"
  rm -rf "$ext/bootwarden"
  how="as the image /var/lib/extensions/bootwarden.raw (merged through a loop device)"
fi

wants() { # unit target kind: the link `systemctl enable` would make
  install -d "$root/etc/systemd/system/$2.$3"
  ln -sfn "/usr/lib/systemd/system/$1" "$root/etc/systemd/system/$2.$3/$1"
}
systemctl --root="$root" enable systemd-sysext.service >/dev/null 2>&1 || die "systemctl --root=$root enable systemd-sysext.service failed"
wants bootwarden.service multi-user.target wants
wants bootwarden-verdict.service boot-complete.target requires
wants bootwarden-healthy.path multi-user.target wants
wants bootwarden-backstop.timer timers.target wants

if [ -e "$root/usr/lib/systemd/system/ensure-sysext.service" ]; then
  reload="the host's ensure-sysext.service reloads PID 1 after the merge"
else
  cat >"$root/etc/systemd/system/bootwarden-sysext.service" <<'UNIT'
[Unit]
Description=Load bootwarden's units from its system extension
Documentation=man:bootwarden(8) file:///usr/share/doc/bootwarden/README.md
# Units that arrive with a sysext merge are unknown to PID 1 until it reloads (what Flatcar's ensure-sysext.service
# does); then the units that wanted to start at boot are started.
DefaultDependencies=no
After=systemd-sysext.service
BindsTo=systemd-sysext.service
Before=sysinit.target
ConditionPathExists=/usr/lib/systemd/system/bootwarden.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/systemctl daemon-reload
ExecStart=/usr/bin/systemctl --no-block start bootwarden.service bootwarden-verdict.service bootwarden-healthy.path bootwarden-backstop.timer

[Install]
WantedBy=sysinit.target
UNIT
  install -d "$root/etc/systemd/system/sysinit.target.wants"
  ln -sfn ../bootwarden-sysext.service "$root/etc/systemd/system/sysinit.target.wants/bootwarden-sysext.service"
  reload="bootwarden-sysext.service (in /etc) reloads PID 1 after the merge and starts the units"
fi

install -d -m 0755 "$root/etc/bootwarden/config.d"
if [ -n "$config" ]; then
  install -m 0644 "$config" "$root/etc/bootwarden/config.yaml"
elif [ ! -e "$root/etc/bootwarden/config.yaml" ]; then
  unsquashfs -q -cat "$image" usr/share/bootwarden/config.yaml.example >"$root/etc/bootwarden/config.yaml"
fi
echo "bootwarden installed into $root $how; units enabled; $reload"
