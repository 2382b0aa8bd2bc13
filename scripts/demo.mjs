// The demo: a Flatcar-like machine (USR-A good, USR-B empty) as a container with a real systemd, bootwarden
// installed from this checkout, and a simulated GRUB (gptprio) between boots. Two upgrades: a healthy one and a
// bad one. Prints what happened at each boot. Needs root; run through scripts/demo.sh.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EXIT_REBOOT, ensureRootfs, Machine, machineConfig, REPO, requireRoot } from "./lib/harness.mjs";

const CONFIG = machineConfig({ extra: "    flags: [/run/app/ready]\n" });
const say = (s = "") => process.stdout.write(`${s}\n`);
const slotLine = (m) =>
  m
    .slots()
    .map((s) => `${s.label} priority=${s.priority} tries=${s.tries} successful=${s.successful ? 1 : 0}`)
    .join("  |  ");

function story(m, bootIndex) {
  const units = [
    "bootwarden.service",
    "bootwarden-backstop.service",
    "app.service",
    "bootwarden-healthy.target",
  ];
  for (const e of m.journal(bootIndex)) {
    const unit = e._SYSTEMD_UNIT === "init.scope" ? "systemd" : e._SYSTEMD_UNIT?.replace(/\.service$/, "");
    const msg = e.MESSAGE ?? "";
    if (/Stopping|Stopped|Failed to kill control group/.test(msg)) continue; // the shutdown, not the story
    const fromUs = units.includes(e._SYSTEMD_UNIT) && !/loopback/.test(msg);
    const aboutUs =
      e._SYSTEMD_UNIT === "init.scope" &&
      /(app\.service|bootwarden-healthy\.target|bootwarden\.service: Main process exited|Reached target.*Reboot)/.test(
        msg,
      );
    if (fromUs || aboutUs) say(`    ${String(unit).padEnd(20)} ${msg}`);
  }
}

async function scenario(title, m) {
  say(`\n=== ${title}`);
  say(`  disk before:  ${slotLine(m)}`);
  say(`  updater:      ${m.arm("USR-B").trim()}`);
  for (let n = 1; n <= 3; n++) {
    const b = await m.boot();
    const how =
      b.exit === 0
        ? "powered off"
        : b.exit === EXIT_REBOOT
          ? "REBOOTED (systemd-nspawn exit 133)"
          : `ended with ${b.exit}`;
    say(`\n  boot ${n}: the bootloader chose ${b.slot}; ${how} after ${b.seconds.toFixed(1)} s`);
    story(m, n - 1);
    say(`  disk now:     ${slotLine(m)}`);
    if (b.exit !== EXIT_REBOOT) break;
  }
}

/**
 * What an operator sees, captured inside the machine: `systemctl status bootwarden` and `bootwarden status`, as soon
 * as a trial's assessment has started ("trial"), or once this boot's verdict is in ("after"); printed by view().
 */
function captureView(m, when) {
  const wait =
    when === "trial" ? "until grep -q assessing /run/bootwarden/status.json; do sleep 0.05; done; " : "";
  const out = `/var/lib/bootwarden-test/view-${when}.txt`;
  writeFileSync(
    path.join(m.dir, `etc/systemd/system/demo-view-${when}.service`),
    `[Unit]\nAfter=bootwarden.service${when === "after" ? " bootwarden-verdict.service" : ""}\nBefore=test-end.service\n` +
      `[Service]\nType=oneshot\nEnvironment=SYSTEMD_COLORS=0 COLUMNS=110\nExecStart=/bin/sh -c '${wait}{ echo "# systemctl status bootwarden"; systemctl status bootwarden --no-pager -n 0; echo; echo "# bootwarden status"; bootwarden status; } > ${out} 2>&1'\n` +
      "[Install]\nWantedBy=multi-user.target\n",
  );
  execFileSync("systemctl", [`--root=${m.dir}`, "enable", `demo-view-${when}.service`], { stdio: "ignore" });
}
function view(m, when, title) {
  const text = m.file(`var/lib/bootwarden-test/view-${when}.txt`);
  if (!text) return;
  say(`\n  ${title}:`);
  for (const l of text.trimEnd().split("\n")) say(`    ${l}`);
}

requireRoot();
say("bootwarden demo: a Debian container booting systemd as PID 1, a GPT disk image with USR-A and USR-B");
say(
  "(Flatcar's partition type and attributes), and a bootloader simulator that applies Flatcar GRUB's gptprio rule",
);
say("between boots. The critical unit is app.service; it also writes /run/app/ready.");
ensureRootfs((s) => say(`  (${s})`));

const good = new Machine("demo-healthy").create({ config: CONFIG, appDelay: 2 });
captureView(good, "trial");
await scenario("1. A healthy upgrade to USR-B", good);
view(good, "trial", "what an operator sees during the trial (boot 1)");
say(
  `  gated unit (stand-in for update-engine, started by bootwarden-healthy.target): ${good.file("var/lib/bootwarden-test/gated-ran") ? "ran" : "did not run"}`,
);

const bad = new Machine("demo-bad").create({ config: CONFIG, badSlots: ["USR-B"] });
captureView(bad, "after");
await scenario("2. A bad upgrade: app.service fails on USR-B", bad);
view(bad, "after", "what an operator sees after the rollback (boot 2, on USR-A)");

// The third backend, on a copy of what systemd-boot leaves on an ESP after choosing a counted entry (the VM tier,
// test/system/vm-bls.test.ts, does it with a real systemd-boot under QEMU).
say("\n=== 3. The same verdict on systemd-boot entries (backend: bls, Type #1 entries and UKIs)");
const bls = mkdtempSync(path.join(tmpdir(), "bootwarden-demo-bls-"));
for (const d of ["esp/loader/entries", "esp/EFI/Linux", "efivars"])
  mkdirSync(path.join(bls, d), { recursive: true });
writeFileSync(path.join(bls, "esp/loader/entries/a.conf"), "title slot A\n");
writeFileSync(path.join(bls, "esp/loader/entries/b+1-1.conf"), "title slot B\n");
const efivar = (name, value) => {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(6);
  const file = path.join(bls, `efivars/${name}-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f`);
  writeFileSync(file, Buffer.concat([head, Buffer.from(`${value}\0`, "utf16le")]));
};
efivar("LoaderEntrySelected", "b+2.conf");
efivar("LoaderBootCountPath", "\\loader\\entries\\b+1-1.conf");
const blsConfig = path.join(bls, "config.yaml");
writeFileSync(blsConfig, `bootState:\n  backend: bls\n  esp: ${bls}/esp\n  efivars: ${bls}/efivars\n`);
const cli = (...args) =>
  execFileSync(process.execPath, [path.join(REPO, "dist/cli.js"), ...args, "--config", blsConfig], {
    encoding: "utf8",
  });
say("  systemd-boot chose b+2.conf and renamed it b+1-1.conf; bootwarden status:");
for (const l of cli("status").trim().split("\n")) say(`    ${l}`);
say(`  bootwarden mark-bad: ${cli("mark-bad").trim()}`);
say(`  entries now: ${readdirSync(path.join(bls, "esp/loader/entries")).sort().join(", ")}`);
rmSync(bls, { recursive: true, force: true });

say("\nInspect a machine yourself: journalctl -D .cache/machines/demo-bad/var/log/journal -u bootwarden");
