// An unprivileged local user against a trial boot, on a real systemd (PID 1 in systemd-nspawn), the real system bus
// and journald, with the units installed by scripts/install.sh: forged systemd signals sent to the daemon's bus
// name, shared locks on every file the boot state lives in, and a damaged record. Each must leave the verdict that
// systemd's real unit states produce. Needs root.
import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_REBOOT, type JournalEntry, Machine, machineConfig, run } from "../../scripts/lib/harness.mjs";
import { MessageId } from "../../src/base/message-ids.js";
import { byId, machinesOfFile } from "../helpers/machines.js";

const machines = machinesOfFile();
function machine(name: string, opts: Parameters<Machine["create"]>[0]): Machine {
  const m = new Machine(`bw-${name}`).create(opts);
  machines.push(m);
  return m;
}

/**
 * A unit of the container running `script` as `user`: after the daemon started, or (`early`) as a oneshot that has
 * finished before the daemon starts (what it leaves running in the background, such as a lock holder, stays).
 */
function unit(m: Machine, name: string, script: string, { user = "nobody", early = false } = {}): void {
  const bin = `/usr/local/bin/${name}`;
  writeFileSync(path.join(m.dir, bin), `#!/bin/bash\nset -u\n${script}\n`, { mode: 0o755 });
  const how = early
    ? "[Unit]\nBefore=bootwarden.service\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
    : "[Unit]\nAfter=bootwarden.service\n[Service]\nType=exec\n";
  writeFileSync(
    path.join(m.dir, `etc/systemd/system/${name}.service`),
    `${how}User=${user}\nExecStart=${bin}\n[Install]\nWantedBy=multi-user.target\n`,
  );
  run("systemctl", [`--root=${m.dir}`, "enable", `${name}.service`]);
}

/** As any user can tell: the daemon is READY, so its assessment runs and its watchers are subscribed. */
const untilAssessing = "until systemctl -q is-active bootwarden.service; do sleep 0.1; done";
/** The daemon's unique bus name, found as any user can: its main PID, then the bus's list of connections. */
const daemonName = `pid=$(systemctl show -P MainPID bootwarden.service)
name=$(busctl --system list --no-legend --unique | awk -v p="$pid" '$2 == p { print $1; exit }')
echo "forger: daemon pid $pid is $name as $(id -un)"`;
/** PropertiesChanged for app.service, as systemd would send it, but from this process. */
const forge = (state: string, sub: string) =>
  `busctl --system emit --destination="$name" /org/freedesktop/systemd1/unit/app_2eservice ` +
  `org.freedesktop.DBus.Properties PropertiesChanged 'sa{sv}as' org.freedesktop.systemd1.Unit 2 ` +
  `ActiveState s ${state} SubState s ${sub} 0 && echo "forger: sent ${state}"`;

/** Each busctl run is a connection of its own: one warning per sender, each naming what it claimed. */
function expectForeign(j: JournalEntry[], runs: number): void {
  const foreign = byId(j, MessageId.foreignSignal);
  const senders = foreign.map((e) => e.BOOTWARDEN_SENDER);
  expect(foreign.length).toBe(runs);
  expect(new Set(senders).size).toBe(runs);
  for (const e of foreign) {
    // Through pino's journald path: the call's fields as journal fields, no JSON in between, no pino-only keys.
    expect(e.PRIORITY).toBe("4");
    expect(e.SYSLOG_IDENTIFIER).toBe("bootwarden");
    expect(e.BOOTWARDEN_NAME).toBeUndefined();
    expect(e.MESSAGE).toBe(
      `ignored a signal from ${e.BOOTWARDEN_SENDER}, which is not systemd (org.freedesktop.DBus.Properties.PropertiesChanged on /org/freedesktop/systemd1/unit/app_2eservice); further ones from it are dropped silently`,
    );
  }
}

describe("an unprivileged user cannot decide a trial boot", { timeout: 300_000 }, () => {
  it("forged 'failed' signals for a healthy app: ignored, logged once per sender, the upgrade is blessed", async () => {
    const m = machine("forge-failed", { config: machineConfig(), appDelay: 6 });
    unit(
      m,
      "forger",
      `${untilAssessing}\n${daemonName}\nfor i in 1 2 3 4 5; do ${forge("failed", "failed")}; sleep 0.3; done`,
    );
    m.arm("USR-B");
    const boot = await m.boot();
    const j = m.journal(0);
    const said = j.filter((e) => /^forger: /.test(e.MESSAGE)).map((e) => e.MESSAGE);
    expect(said).toContain("forger: sent failed");
    expect(said.find((s) => s.startsWith("forger: daemon pid"))).toMatch(/ is :1\.\d+ as nobody$/);
    expect(boot).toMatchObject({ slot: "USR-B", exit: 0 });
    expect(byId(j, MessageId.verdict).map((e) => e.BOOTWARDEN_VERDICT)).toEqual(["healthy"]);
    expectForeign(j, 5);
    expect(m.slots()[1]).toMatchObject({ label: "USR-B", successful: true });
  });

  it("forged 'active' signals for an app that never starts: ignored, the deadline rolls the upgrade back", async () => {
    const m = machine("forge-active", { config: machineConfig({ deadline: "12s" }), appDelay: 1000 });
    unit(
      m,
      "forger",
      `${untilAssessing}\n${daemonName}\nfor i in 1 2 3 4 5; do ${forge("active", "running")}; sleep 0.3; done`,
    );
    m.arm("USR-B");
    const boot = await m.boot();
    const j = m.journal(0);
    expect(j.some((e) => e.MESSAGE === "forger: sent active")).toBe(true);
    expect(boot).toMatchObject({ slot: "USR-B", exit: EXIT_REBOOT });
    expect(byId(j, MessageId.verdict)[0]?.MESSAGE).toMatch(
      /unhealthy: deadline passed with unit:app\.service \(activating \(start\)\) not healthy$/,
    );
    expectForeign(j, 5);
    expect(m.slots()[1]).toMatchObject({ priority: 0, successful: false });
  });

  it("shared locks on the image, /boot and bootwarden's lock file: the rollback still finishes", async () => {
    const m = machine("squat", { config: machineConfig(), badSlots: ["USR-B"] });
    // Everything a reader can open is held; bootwarden's own lock file is not theirs to open.
    unit(
      m,
      "squatter",
      `exec 8</boot/disk.img 7</boot && flock -s 8 && flock -s 7
# /proc/locks hides a lock whose taker (flock(1)) is gone from this PID namespace: ask the kernel with a writer's try.
for f in /boot/disk.img /boot; do flock -n -x "$f" true || echo "squatter: $f is held"; done
flock -n -s /run/bootwarden/boot-state.lock true 2>&1 | sed 's/^/squatter: /'
# The locks stay with this child's descriptors after the unit's main process is done.
(exec sleep infinity) &`,
      { early: true },
    );
    m.arm("USR-B");
    const first = await m.boot();
    const j = m.journal(0);
    expect(j.filter((e) => /^squatter: .* is held$/.test(e.MESSAGE)).map((e) => e.MESSAGE)).toEqual([
      "squatter: /boot/disk.img is held",
      "squatter: /boot is held",
    ]);
    expect(
      j.some((e) =>
        /^squatter: flock: cannot open lock file \/run\/bootwarden\/boot-state\.lock: Permission denied/.test(
          e.MESSAGE,
        ),
      ),
    ).toBe(true);
    expect(first).toMatchObject({ slot: "USR-B", exit: EXIT_REBOOT });
    // The rollback's child logger: its bindings reach the journal as fields of every record it writes.
    expect(byId(j, MessageId.markedBad)).toEqual([
      expect.objectContaining({
        BOOTWARDEN_SLOT: "PARTLABEL=USR-B",
        BOOTWARDEN_VERDICT: "unhealthy",
        PRIORITY: "4",
      }),
    ]);
    expect(byId(j, MessageId.markBadRetry)).toHaveLength(0);
    expect(m.slots()[1]).toMatchObject({ priority: 0, successful: false });
    // The records carry reasons: the state directory stays root's alone while the units run (StateDirectoryMode=).
    expect(statSync(path.join(m.dir, "var/lib/bootwarden")).mode & 0o777).toBe(0o700);
    const second = await m.boot();
    expect(second).toMatchObject({ slot: "USR-A", exit: 0 });
    expect(byId(m.journal(1), MessageId.previousTrialFailed)).toHaveLength(1);
  });

  it("root holding bootwarden's lock past the wait: mark-bad is retried and the rollback finishes", async () => {
    const m = machine("hold", { config: machineConfig(), badSlots: ["USR-B"] });
    unit(
      m,
      "holder",
      `exec 9</run/bootwarden/boot-state.lock && flock 9 && echo holder: taken
(sleep 14; echo holder: released) &`,
      { user: "root", early: true },
    );
    m.arm("USR-B");
    const first = await m.boot();
    const j = m.journal(0);
    expect(j.some((e) => e.MESSAGE === "holder: released")).toBe(true);
    expect(first).toMatchObject({ slot: "USR-B", exit: EXIT_REBOOT });
    expect(byId(j, MessageId.markBadRetry)[0]?.MESSAGE).toMatch(
      /^could not mark PARTLABEL=USR-B bad \(gpt: \/boot\/disk\.img: bootwarden's lock \/run\/bootwarden\/boot-state\.lock is held by another writer after 10s \(.+\)\); trying again in 1s$/,
    );
    expect(byId(j, MessageId.rollbackFailed)).toHaveLength(0);
    expect(byId(j, MessageId.markedBad)).toHaveLength(1);
    expect(m.slots()[1]).toMatchObject({ priority: 0, successful: false });
  });

  it("a damaged trials.json ('5'): said once, replaced, and the bad upgrade still reboots into A", async () => {
    const m = machine("damaged", { config: machineConfig(), badSlots: ["USR-B"] });
    run("install", ["-d", "-m", "0700", path.join(m.dir, "var/lib/bootwarden")]);
    writeFileSync(path.join(m.dir, "var/lib/bootwarden/trials.json"), "5");
    m.arm("USR-B");
    const first = await m.boot();
    expect(first).toMatchObject({ slot: "USR-B", exit: EXIT_REBOOT });
    const j = m.journal(0);
    expect(byId(j, MessageId.recordDamaged)[0]?.MESSAGE).toBe(
      "/var/lib/bootwarden/trials.json: not a record of failed trials; ignored, replaced at the next write",
    );
    expect(byId(j, MessageId.rebootRequested)[0]?.MESSAGE).toMatch(
      /failed trial 1 since it was last blessed/,
    );
    const uuid = run("cgpt", ["show", "-i", "2", "-u", m.disk]).trim().toLowerCase();
    expect(JSON.parse(m.file("var/lib/bootwarden/trials.json")!)).toMatchObject({
      [`PARTUUID=${uuid}`]: { failures: 1, slot: "PARTLABEL=USR-B" },
    });
    expect(await m.boot()).toMatchObject({ slot: "USR-A", exit: 0 });
  });
});
