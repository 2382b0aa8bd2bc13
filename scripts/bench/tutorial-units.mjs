// The plain unit-file design from the Flatcar tutorial, implemented faithfully for the side-by-side figures:
// a cgpt detection script, a health-check oneshot ordered after the critical service, a .path unit on
// /run/first-boot-healthy starting the update agent, an update_engine stand-in that marks the partition good the way
// flatcar-setgoodroot does 45 s after it starts, and an OnStartupSec= timer (default AccuracySec) that rolls back.
export function tutorialFiles(deadlineSeconds) {
  const disk = "/boot/disk.img";
  const findSlot = `part=$(sed -n 's/.*mount.usr=PARTLABEL=\\([^ ]*\\).*/\\1/p' /etc/bootwarden/test-cmdline)
for i in 1 2; do [ "$(cgpt show -i $i -l ${disk})" = "$part" ] && idx=$i; done`;
  return {
    "usr/local/bin/first-boot-detect": `#!/bin/sh
${findSlot}
mkdir -p /run/bench
echo "$idx" > /run/bench/partition
# Already successful: not a first boot after an update.
if [ "$(cgpt show -i "$idx" -S ${disk})" = 1 ]; then touch /run/first-boot-healthy; fi
`,
    "usr/local/bin/update-engine-standin": `#!/bin/sh
# update_engine waits 45 s after it starts, then marks the booted partition good (flatcar-setgoodroot).
sleep 45
idx=$(cat /run/bench/partition)
cgpt add -i "$idx" -S1 -T0 ${disk}
cgpt prioritize -i "$idx" ${disk}
sync
touch /run/bench/marked
`,
    "usr/local/bin/first-boot-rollback": `#!/bin/sh
[ -e /run/first-boot-healthy ] && exit 0
idx=$(cat /run/bench/partition)
echo "first boot not healthy by the deadline: rolling back"
cgpt add -i "$idx" -P0 -T0 -S0 ${disk}
systemctl reboot
`,
    "etc/systemd/system/first-boot-detect.service": `[Unit]
Description=Detect a first boot after an update
DefaultDependencies=no
After=local-fs.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/first-boot-detect
[Install]
WantedBy=multi-user.target
`,
    "etc/systemd/system/health-check.service": `[Unit]
Description=First-boot health check
Requires=app.service
After=app.service first-boot-detect.service
ConditionPathExists=!/run/first-boot-healthy
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl is-active --quiet app.service && touch /run/first-boot-healthy'
[Install]
WantedBy=multi-user.target
`,
    "etc/systemd/system/first-boot-healthy.path": `[Path]
PathExists=/run/first-boot-healthy
Unit=update-engine-standin.service
[Install]
WantedBy=multi-user.target
`,
    "etc/systemd/system/update-engine-standin.service": `[Unit]
Description=update_engine stand-in
[Service]
Type=exec
ExecStart=/usr/local/bin/update-engine-standin
`,
    "etc/systemd/system/first-boot-rollback.timer": `[Timer]
OnStartupSec=${deadlineSeconds}s
Unit=first-boot-rollback.service
[Install]
WantedBy=timers.target
`,
    "etc/systemd/system/first-boot-rollback.service": `[Unit]
Description=Roll back a first boot that was not healthy in time
[Service]
Type=oneshot
ExecStart=/usr/local/bin/first-boot-rollback
`,
  };
}
export const TUTORIAL_UNITS = [
  "first-boot-detect.service",
  "health-check.service",
  "first-boot-healthy.path",
  "first-boot-rollback.timer",
];
