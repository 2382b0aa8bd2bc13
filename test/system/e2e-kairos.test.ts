// Kairos' boot choreography on a real systemd (nspawn), following packaging/kairos/README.md: the config at Kairos'
// path, `bootwarden check-config --apply` for the sandbox, and packaging/kairos/07_bootwarden.yaml. A stand-in for
// Kairos' cos-setup-boot.service (kairos-agent run-stage boot: boot.before, then boot, each file's steps in name order)
// runs our file's steps and, between them, what Kairos' 08_grub.yaml step "Remove GRUB sentinels" does (its grub2-editenv
// calls, written here). The state partition is a directory bind-mounted at /run/initramfs/cos-state, as Kairos'
// initramfs mounts COS_STATE. Needs root.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EXIT_REBOOT, Machine, run } from "../../scripts/lib/harness.mjs";
import { MessageId } from "../../src/base/message-ids.js";
import { byId, machinesOfFile, putFile } from "../helpers/machines.js";
import { REPO } from "../helpers/tools.js";

const machines = machinesOfFile();

interface Step {
  name: string;
  if?: string;
  commands?: string[];
  files?: { path: string; content: string }[];
}
const ours = parse(readFileSync(path.join(REPO, "packaging/kairos/07_bootwarden.yaml"), "utf8")) as {
  stages: Record<string, Step[]>;
};
// /proc/cmdline in a container is the host's: the stand-in's steps read Kairos' command line from a file.
const cmdline = (s: string) => s.replaceAll("/proc/cmdline", "/etc/kairos-test/cmdline");
const shell = (steps: Step[]) =>
  steps
    .map(
      (s) =>
        `# ${s.name}\nif ${cmdline(s.if ?? "true").trim()}; then\n${cmdline((s.commands ?? []).join("\n"))}\nfi\n`,
    )
    .join("");
// What Kairos' 08_grub.yaml does at boot.before on the active image (kairos-io/kairos-init pkg/bundled/cloudconfigs,
// read there): clear both sentinels, between a read-write and a read-only remount of the state partition.
const KAIROS_08_BOOT_BEFORE = `# 08_grub.yaml: Remove GRUB sentinels
if grep -q "active.img" /etc/kairos-test/cmdline; then
  mount -o rw,remount /run/initramfs/cos-state
  grub2-editenv /run/initramfs/cos-state/boot_assessment set enable_boot_assessment=
  grub2-editenv /run/initramfs/cos-state/boot_assessment set boot_assessment_tentative=
  mount -o ro,remount /run/initramfs/cos-state
fi
`;

/**
 * A Kairos-like machine after an upgrade: GRUB booted the new active image and saved tentative=yes. (The harness'
 * test app fails on the slots listed; the GPT it simulates boots USR-A, which stands for the active image.)
 */
function kairos(name: string, badSlots: string[]): { m: Machine; applyLog: string } {
  const m = new Machine(`bw-${name}`).create({
    config: `bootState:
  backend: grubenv
  scheme: kairos
  path: /run/initramfs/cos-state/boot_assessment
  cmdline: /etc/kairos-test/cmdline
assessment:
  deadline: 30s
  critical:
    units: [app.service]
`,
    badSlots,
  });
  machines.push(m);
  putFile(
    m,
    "etc/kairos-test/cmdline",
    "BOOT_IMAGE=/cOS/active.img console=tty1 root=LABEL=COS_STATE cos-img/filename=/cOS/active.img panic=5\n",
  );
  // grub2-editenv, as Kairos names it (the host's grub-editenv and the library the minimal tree lacks).
  copyFileSync("/usr/bin/grub-editenv", path.join(m.dir, "usr/bin/grub2-editenv"));
  run("chmod", ["0755", path.join(m.dir, "usr/bin/grub2-editenv")]);
  for (const lib of ["libdevmapper.so.1.02.1"]) {
    const dst = path.join(m.dir, "usr/lib/x86_64-linux-gnu", lib);
    if (!existsSync(dst)) copyFileSync(path.join("/lib/x86_64-linux-gnu", lib), dst);
  }
  // The state partition: GRUB saved boot_assessment_tentative=yes on the trial's first pass.
  mkdirSync(path.join(m.dir, "var/lib/cos-state"), { recursive: true });
  run("grub-editenv", [path.join(m.dir, "var/lib/cos-state/boot_assessment"), "create"]);
  run("grub-editenv", [
    path.join(m.dir, "var/lib/cos-state/boot_assessment"),
    "set",
    "enable_boot_assessment=yes",
    "boot_assessment_tentative=yes",
  ]);
  putFile(
    m,
    "etc/systemd/system/cos-state.service",
    `[Unit]
Description=stand-in: COS_STATE mounted at /run/initramfs/cos-state (Kairos' initramfs does it)
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target cos-setup-boot.service bootwarden.service bootwarden-backstop.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'mkdir -p /run/initramfs/cos-state && mount --bind /var/lib/cos-state /run/initramfs/cos-state && mount -o ro,remount,bind /run/initramfs/cos-state'
[Install]
WantedBy=sysinit.target
`,
  );
  // Kairos' cos-setup-boot.service as Kairos orders it: no ordering to bootwarden of its own.
  putFile(
    m,
    "etc/systemd/system/cos-setup-boot.service",
    `[Unit]
Description=stand-in for Kairos' cos-setup-boot.service (kairos-agent run-stage boot)
Before=getty.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/bin/kairos-run-stage-boot
[Install]
WantedBy=multi-user.target
`,
  );
  putFile(
    m,
    "usr/local/bin/kairos-run-stage-boot",
    `#!/bin/sh\n# boot.before: /system/oem/07_bootwarden.yaml, then 08_grub.yaml\n${shell(ours.stages["boot.before"] ?? [])}${KAIROS_08_BOOT_BEFORE}# boot\n${shell(ours.stages.boot ?? [])}`,
    0o755,
  );
  // 07_bootwarden.yaml's initramfs stage writes these at boot; here they are written into the tree.
  for (const f of (ours.stages.initramfs ?? []).flatMap((s) => s.files ?? []))
    putFile(m, f.path.slice(1), f.content);
  run("systemctl", [`--root=${m.dir}`, "enable", "cos-state.service", "cos-setup-boot.service"]);
  // The guide: the boot state lies outside /boot, so check-config --apply opens the units' sandbox to it.
  mkdirSync(path.join(m.dir, "run/initramfs/cos-state"), { recursive: true });
  return { m, applyLog: m.chroot("bootwarden", "check-config", "--apply") };
}
const env = (m: Machine) => readFileSync(path.join(m.dir, "var/lib/cos-state/boot_assessment"), "latin1");

describe("Kairos: bootwarden owns the assessment through 07_bootwarden.yaml", { timeout: 300_000 }, () => {
  it("a failing upgrade stays a trial past Kairos' boot.before: marked bad (tentative=yes), the machine reboots", async () => {
    const { m, applyLog } = kairos("kairos-bad", ["USR-A"]);
    expect(applyLog).toMatch(/wrote \/etc\/systemd\/system\/bootwarden\.service\.d\/50-boot-state\.conf/);
    const b = await m.boot();
    expect(b.exit).toBe(EXIT_REBOOT);
    const j = m.journal(0);
    expect(byId(j, MessageId.trialBoot).map((e) => e.BOOTWARDEN_SLOT)).toEqual(["active"]);
    expect(byId(j, MessageId.markedBad)).toHaveLength(1);
    // What sends Kairos' GRUB to the fallback entry at the next boot.
    expect(env(m)).toMatch(/^enable_boot_assessment=yes$/m);
    expect(env(m)).toMatch(/^boot_assessment_tentative=yes$/m);
    // Kairos' boot stages (its clearing, then ours putting the sentinels back) ended before the assessment began.
    const done = j.findIndex((e) => /^Finished cos-setup-boot\.service/.test(e.MESSAGE));
    expect(done).toBeGreaterThanOrEqual(0);
    expect(done).toBeLessThan(j.findIndex((e) => e.MESSAGE_ID === MessageId.trialBoot));
  });

  it("a healthy upgrade is blessed by bootwarden: the sentinels cleared, as Kairos would have", async () => {
    const { m } = kairos("kairos-ok", []);
    const b = await m.boot();
    expect(b.exit).toBe(0);
    const j = m.journal(0);
    expect(byId(j, MessageId.trialBoot)).toHaveLength(1);
    expect(byId(j, MessageId.markedGood)).toHaveLength(1);
    expect(env(m)).toMatch(/^enable_boot_assessment=$/m);
    expect(env(m)).toMatch(/^boot_assessment_tentative=$/m);
  });
});
