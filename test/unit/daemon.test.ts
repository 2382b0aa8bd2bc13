import { describe, expect, it } from "vitest";
import { BootwardenError } from "../../src/base/errors.js";
import { MessageId } from "../../src/base/message-ids.js";
import { configSchema } from "../../src/config/schema.js";
import { Daemon } from "../../src/daemon/daemon.js";
import { COLLECT_QUIET_MS } from "../../src/daemon/idle-collector.js";
import { SETTLED_WATCHDOG_USEC } from "../../src/daemon/status-publisher.js";
import { machine } from "../fakes/daemon-machine.js";
import { MemoryStore, RecordingNotifier } from "../fakes/fake-ports.js";

const active = (since = 4_000_000n) => ({
  ActiveState: "active",
  SubState: "running",
  ActiveEnterTimestampMonotonic: since,
});
const failed = { ActiveState: "failed", SubState: "failed" };
const settle = () => new Promise((r) => setTimeout(r, 10));

describe("Daemon, in process (memory backend, fake systemd, fake clock)", () => {
  it("blesses a trial boot once the critical unit is active: marked good once, healthy flag, green hooks", async () => {
    const m = machine();
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", active());
    await settle();
    await d.idle();
    expect(m.backend.writes).toEqual({ good: 1, bad: 0 });
    expect(m.flags.writes).toEqual([{ which: "healthy", reason: "all critical checks passed" }]);
    expect(m.hooks.runs.map((h) => h.which)).toEqual(["green"]);
    expect(m.store.status?.done).toEqual(["markGood", "flag:healthy", "hooks:green"]);
    expect(m.systemd.started).toEqual([]);
    expect(m.withId(MessageId.tableRepaired)).toHaveLength(0);
  });

  it("gives memory back once quiet after the verdict, never while the checks are still coming up", async () => {
    const m = machine();
    const d = m.daemon();
    await d.start(await m.backend.read());
    await m.clock.advanceTo(5000 + 20_000); // assessing: the deadline is 30 s away
    expect(m.released).toEqual([]);
    m.systemd.set("app.service", active());
    await settle();
    await d.idle();
    const blessedAt = m.clock.now();
    await m.clock.advanceTo(blessedAt + COLLECT_QUIET_MS - 1);
    expect(m.released).toEqual([]);
    await m.clock.advanceTo(blessedAt + COLLECT_QUIET_MS);
    expect(m.released).toEqual([blessedAt + COLLECT_QUIET_MS]);
    await d.stop();
  });

  it("a normal boot gives memory back once quiet after its start", async () => {
    const m = machine();
    m.backend.slots.B!.good = true;
    const d = m.daemon();
    await d.start(await m.backend.read());
    await m.clock.advanceTo(5000 + COLLECT_QUIET_MS);
    expect(m.released).toEqual([5000 + COLLECT_QUIET_MS]);
    await d.stop();
  });

  it("status.json never goes back in time: a slow first write does not land after a later one", async () => {
    // As writeAtomic does: the content is taken when the write begins, the file replaced when it ends.
    class SlowFirstStore extends MemoryStore {
      private writes = 0;
      override async write(s: Parameters<MemoryStore["write"]>[0]) {
        const content = structuredClone(s);
        await new Promise((r) => setTimeout(r, this.writes++ === 0 ? 40 : 0));
        this.status = content;
      }
    }
    const m = machine(undefined, new SlowFirstStore());
    m.systemd.set("app.service", active()); // already up: the verdict comes while the start's write is slow
    const d = m.daemon();
    await d.start(await m.backend.read());
    await settle();
    await d.idle();
    await new Promise((r) => setTimeout(r, 100));
    expect(m.store.status?.phase).toBe("verdict");
    expect(m.store.status?.done).toEqual(["markGood", "flag:healthy", "hooks:green"]);
    // The same state as the daemon's now; the file's time stamp is the write's.
    expect({ ...m.store.status, updatedAt: "" }).toEqual(
      JSON.parse(JSON.stringify({ ...d.snapshot(), updatedAt: "" })),
    );
  });

  it("a mark that first repaired a damaged copy of the boot state says so under its own MESSAGE_ID", async () => {
    const m = machine();
    m.backend.repaired = "backup GPT is damaged (bad header CRC)";
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", active());
    await settle();
    await d.idle();
    expect(m.withId(MessageId.tableRepaired).map((r) => r.msg)).toEqual([
      "repaired before writing: backup GPT is damaged (bad header CRC)",
    ]);
  });

  it("resumes after a crash mid-verdict: finishes the rollback and repeats nothing already done", async () => {
    const m = machine();
    m.hooks.hang = "red"; // the first daemon dies while its red hook runs
    const first = m.daemon();
    await first.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    expect(m.hooks.runs.map((h) => h.which)).toEqual(["red"]);
    expect(m.store.status?.done).toEqual(["flag:unhealthy"]);
    await first.stop();
    m.hooks.hang = undefined;
    const second = m.daemon();
    await second.start(await m.backend.read());
    await second.idle();
    expect(m.withId(MessageId.trialBoot).map((r) => r.msg.split(" ")[0])).toEqual(["starting", "resuming"]);
    expect(m.flags.writes.map((f) => f.which)).toEqual(["unhealthy"]);
    expect(m.hooks.runs.map((h) => h.which)).toEqual(["red", "red"]); // the cut-short hook runs again
    expect(m.backend.writes.bad).toBe(1);
    expect(m.systemd.started).toEqual(["reboot.target"]);
    expect(m.store.lastTrial).toMatchObject({ slot: "B", verdict: "unhealthy", by: "daemon" });
    expect(m.store.status?.done).toEqual(["flag:unhealthy", "hooks:red", "rollback"]);
  });

  it("a crash between mark-bad and the reboot still ends in the reboot, not in a 'normal boot'", async () => {
    const m = machine();
    m.systemd.hangReboot = true;
    const first = m.daemon();
    void first.start(await m.backend.read());
    await settle();
    m.systemd.set("app.service", failed);
    await settle();
    expect(m.backend.writes.bad).toBe(1);
    await first.stop();
    // The slot is bad on disk now, so the boot state alone no longer says "trial boot".
    expect((await m.backend.read()).trialBoot).toBe(false);
    m.systemd.hangReboot = false;
    const second = m.daemon();
    await second.start(await m.backend.read());
    await second.idle();
    expect(m.withId(MessageId.normalBoot)).toHaveLength(0);
    expect(m.systemd.started).toEqual(["reboot.target", "reboot.target"]);
    expect(m.backend.writes.bad).toBe(1); // mark-bad again is "already so": one write
    expect(m.flags.writes.filter((f) => f.which === "healthy")).toHaveLength(0);
  });

  it("keeps the deadline across a restart, even if the configured deadline changed meanwhile", async () => {
    const m = machine();
    const first = m.daemon();
    await first.start(await m.backend.read());
    const deadline = m.store.status?.deadlineMonotonicMs;
    expect(deadline).toBe(1000 + 30_000); // from userspace start (1 s), not from the daemon's start (5 s)
    await m.clock.advanceTo(10_000);
    await first.stop();
    const second = m.daemon(
      configSchema.parse({ assessment: { deadline: "5m", critical: { units: ["app.service"] } } }),
    );
    await second.start(await m.backend.read());
    expect(m.store.status?.deadlineMonotonicMs).toBe(deadline);
    await m.clock.advanceTo(30_999);
    expect(m.store.status?.assessment?.verdict).toBeUndefined();
    await m.clock.advanceTo(31_000);
    await second.idle();
    expect(m.withId(MessageId.verdict)[0]?.msg).toBe(
      "verdict for trial boot of B: unhealthy: deadline passed with unit:app.service (inactive (dead)) not healthy",
    );
    expect(m.systemd.started).toEqual(["reboot.target"]);
  });

  it("mark-bad failing => retried with growing pauses until the backstop's time, then left to it, not done", async () => {
    const m = machine();
    m.backend.failMarkBad = new BootwardenError("gpt", "busy", "/dev/vda: another writer holds the lock");
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    const deadline = m.store.status!.deadlineMonotonicMs!;
    await m.clock.advanceTo(deadline + 60_000);
    await d.idle();
    expect(m.systemd.started).toEqual([]);
    const retries = m.withId(MessageId.markBadRetry).map((r) => r.msg);
    expect(retries.length).toBeGreaterThanOrEqual(4);
    expect(retries.slice(0, 3)).toEqual(
      [1, 2, 4].map(
        (s) => `could not mark B bad (gpt: /dev/vda: another writer holds the lock); trying again in ${s}s`,
      ),
    );
    expect(m.withId(MessageId.rollbackFailed).map((r) => r.msg)).toEqual([
      "could not mark B bad (gpt: /dev/vda: another writer holds the lock); the backstop tries again after the deadline",
    ]);
    expect(m.records.some((r) => /not rebooting/.test(r.msg))).toBe(false);
    expect(m.store.status?.done).not.toContain("rollback");
    expect(m.store.lastTrial).toBeUndefined();
    expect(m.exits).toEqual([]);
  });

  it("a mark-bad that fails twice and then works ends in the reboot", async () => {
    const m = machine();
    m.backend.failMarkBad = new BootwardenError("gpt", "busy", "/dev/vda: another writer holds the lock");
    m.backend.failMarkBadTimes = 2;
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    await m.clock.advanceTo(m.clock.now() + 3500);
    await d.idle();
    expect(m.withId(MessageId.markBadRetry)).toHaveLength(2);
    expect(m.backend.writes.bad).toBe(1);
    expect(m.systemd.started).toEqual(["reboot.target"]);
    expect(m.store.status?.done).toContain("rollback");
  });

  it("no slot to fall back to => said under its own MESSAGE_ID, not retried, no reboot", async () => {
    const m = machine();
    m.backend.failMarkBad = new BootwardenError("gpt", "refused", "no other slot is bootable");
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    await d.idle();
    expect(m.withId(MessageId.markBadRetry)).toEqual([]);
    expect(m.withId(MessageId.slotExhausted)[0]?.msg).toMatch(
      /no slot is left to fall back to from B .*not rebooting/,
    );
    expect(m.systemd.started).toEqual([]);
  });

  it("records that cannot be written never stop the rollback: the reboot still comes", async () => {
    const m = machine();
    m.store.failRecords = new Error("/var/lib/bootwarden/trials.json: damaged");
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    await d.idle();
    expect(m.backend.writes.bad).toBe(1);
    expect(m.systemd.started).toEqual(["reboot.target"]);
    expect(m.records.some((r) => /could not count the failed trial: .*damaged/.test(r.msg))).toBe(true);
    expect(m.exits).toEqual([]);
  });

  it("a failure after the verdict is reported and never rolled back", async () => {
    const m = machine();
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", active());
    await settle();
    await d.idle();
    m.systemd.set("app.service", failed);
    await settle();
    await d.idle();
    expect(m.withId(MessageId.lateFailure)).toHaveLength(1);
    expect(m.backend.writes).toEqual({ good: 1, bad: 0 });
    expect(m.systemd.started).toEqual([]);
    await m.clock.advanceTo(m.clock.now() + 250); // check-only changes are saved within 250 ms
    expect(m.store.status?.notes.join()).toMatch(/unit:app\.service failed: failed \(failed\)/);
    expect(m.store.status?.assessment?.verdict?.verdict).toBe("healthy");
  });

  it("a normal boot after a failed trial reports it once, also across a restart", async () => {
    const m = machine();
    m.backend.booted = "A";
    m.store.lastTrial = { slot: "B", verdict: "unhealthy", reason: "unit:app.service failed", at: "t" };
    for (let i = 0; i < 2; i++) {
      const d = m.daemon();
      await d.start(await m.backend.read());
      await d.idle();
      await d.stop();
    }
    expect(m.withId(MessageId.previousTrialFailed).map((r) => r.msg)).toEqual([
      "booted A after a failed trial boot of B: unhealthy (unit:app.service failed)",
    ]);
    expect(m.store.lastTrial?.reported).toBe(true);
    expect(m.withId(MessageId.normalBoot)).toHaveLength(2);
    expect(m.flags.writes).toEqual([{ which: "healthy", reason: "normal boot" }]);
    expect(m.backend.writes).toEqual({ good: 0, bad: 0 });
  });

  it("a trial boot after a failed trial of another slot reports it once (RAUC: the fallback is a trial too)", async () => {
    const m = machine();
    m.backend.booted = "A";
    m.backend.slots.A = { good: false, bad: false };
    m.store.lastTrial = { slot: "B", verdict: "unhealthy", reason: "unit:app.service failed", at: "t" };
    for (let i = 0; i < 2; i++) {
      const d = m.daemon();
      await d.start(await m.backend.read());
      await settle();
      await d.idle();
      await d.stop();
    }
    expect(m.withId(MessageId.previousTrialFailed).map((r) => r.msg)).toEqual([
      "booted A after a failed trial boot of B: unhealthy (unit:app.service failed)",
    ]);
    expect(m.withId(MessageId.trialBoot)).toHaveLength(2);
  });

  it("a normal boot known only from the boot loader's state is reported once per boot", async () => {
    const m = machine();
    m.backend.booted = "A";
    m.backend.rolledBackFrom = { slot: "B", reason: "no tries left" };
    for (let i = 0; i < 2; i++) {
      const d = m.daemon();
      await d.start(await m.backend.read());
      await d.stop();
    }
    expect(m.withId(MessageId.previousTrialFailed)).toHaveLength(1);
  });

  it("report-only: an unhealthy verdict writes the flag and runs red hooks but neither marks nor reboots", async () => {
    const m = machine({
      assessment: { action: "report", deadline: "30s", critical: { units: ["app.service"] } },
    });
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    await d.idle();
    expect(m.flags.writes.map((f) => f.which)).toEqual(["unhealthy"]);
    expect(m.backend.writes).toEqual({ good: 0, bad: 0 });
    expect(m.systemd.started).toEqual([]);
  });

  it("a unit that restarts within the settle time is flapping even though it is active again", async () => {
    const m = machine({
      assessment: { deadline: "30s", settle: "5s", critical: { units: ["app.service"] } },
    });
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", active(), { NRestarts: 1 });
    await settle();
    await d.idle();
    expect(m.withId(MessageId.verdict)[0]?.msg).toMatch(/unit:app\.service failed: restarted 1 time\(s\)/);
  });

  it("noFailedUnits follows NFailedUnits on every finished job", async () => {
    const m = machine({ assessment: { deadline: "30s", noFailedUnits: true } });
    const d = m.daemon();
    await d.start(await m.backend.read());
    await settle();
    await d.idle();
    expect(m.store.status?.assessment?.verdict?.verdict).toBe("healthy");
    m.systemd.nFailed = 2;
    m.systemd.emit("jobRemoved", "x.service", "failed");
    await settle();
    expect(m.withId(MessageId.lateFailure)[0]?.msg).toMatch(/noFailedUnits failed: 2 failed unit\(s\)/);
  });

  it("the reboot's record names where the boot loader falls back to, and warns when its rule starts the failed slot", async () => {
    for (const next of ["A", "B"]) {
      const m = machine();
      m.backend.next = next;
      const d = m.daemon();
      await d.start(await m.backend.read());
      m.systemd.set("app.service", failed);
      await settle();
      await d.idle();
      expect(m.withId(MessageId.rebootRequested)[0]?.msg).toMatch(
        new RegExp(
          `^rebooting to fall back from B to ${next} \\(failed trial 1 since it was last blessed\\): `,
        ),
      );
      expect(m.withId(MessageId.fallbackIsFailed).map((r) => r.msg)).toEqual(
        next === "B"
          ? [
              "the boot loader's own rule starts B again after it was marked bad (a loader.conf default glob?): the machine may not fall back",
            ]
          : [],
      );
      expect(m.systemd.started).toEqual(["reboot.target"]);
    }
  });

  it("a rollback counts a failed trial of the slot; a blessing resets it", async () => {
    const m = machine();
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    await d.idle();
    expect(m.store.failures.get("id-B")).toBe(1);
    expect(m.withId(MessageId.rebootRequested)[0]?.msg).toMatch(/failed trial 1 since it was last blessed/);
    const again = machine();
    again.store.failures.set("id-B", 2);
    const d2 = again.daemon();
    await d2.start(await again.backend.read());
    again.systemd.set("app.service", active());
    await settle();
    await d2.idle();
    expect(again.store.failures.has("id-B")).toBe(false);
  });

  it("the fallback of a failed trial failing too says 'both slots failed' once, and rolls nothing back", async () => {
    const m = machine();
    m.backend.booted = "A";
    m.store.lastTrial = { slot: "B", verdict: "unhealthy", reason: "r", at: "t" };
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    m.systemd.set("app.service", { SubState: "dead" });
    await settle();
    expect(m.withId(MessageId.slotExhausted)).toEqual([]);
    expect(m.withId(MessageId.fallbackFailed).map((r) => r.msg)).toEqual([
      "both slots failed: A, the fallback of a failed trial, fails unit:app.service too; not rolling back and forth",
    ]);
    expect(m.backend.writes).toEqual({ good: 0, bad: 0 });
    expect(m.systemd.started).toEqual([]);
  });

  it("on the fallback of a failed trial a failing wanted check is only reported: no 'both slots failed'", async () => {
    const m = machine({
      assessment: {
        deadline: "30s",
        critical: { units: ["app.service"] },
        wanted: { units: ["extra.service"] },
      },
    });
    m.backend.booted = "A";
    m.store.lastTrial = { slot: "B", verdict: "unhealthy", reason: "unit:app.service failed", at: "t" };
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", active());
    m.systemd.set("extra.service", failed);
    await settle();
    expect(m.withId(MessageId.lateFailure).map((r) => r.BOOTWARDEN_CHECK)).toEqual(["unit:extra.service"]);
    expect(m.withId(MessageId.fallbackFailed)).toEqual([]);
    expect(m.records.filter((r) => r.level >= 50 && /both slots/.test(r.msg))).toEqual([]);
    // The boot knows what it fell back from, for `status` (the boot loader's state may not show it).
    expect(d.snapshot().rolledBackFrom).toEqual({ slot: "B", reason: "unhealthy (unit:app.service failed)" });
    await d.idle();
    expect(m.store.status?.rolledBackFrom).toEqual({
      slot: "B",
      reason: "unhealthy (unit:app.service failed)",
    });
  });

  it("no slot left to mark bad: the rollback is refused with a code, said loudly, and there is no reboot", async () => {
    const m = machine();
    m.backend.failMarkBad = new BootwardenError(
      "gpt",
      "refused",
      "/dev/vda: refusing to mark B bad: no other slot is bootable",
    );
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set("app.service", failed);
    await settle();
    await d.idle();
    expect(m.withId(MessageId.slotExhausted)).toHaveLength(1);
    expect(m.systemd.started).toEqual([]);
  });

  it("READY=1 carries the first STATUS=, and STATUS= follows only changes", async () => {
    const m = machine();
    const notifier = new RecordingNotifier();
    const d = new Daemon({ ...m, notifier, exit: () => undefined, pid: 1 });
    await d.start(await m.backend.read());
    m.systemd.set("app.service", active());
    await settle();
    await d.idle();
    expect(notifier.sent).toEqual([
      "READY=1 STATUS=trial boot of B: 0/1 critical checks up, 26s left",
      "STATUS=trial boot of B: healthy: all critical checks passed",
    ]);
  });

  it("the watchdog: the unit's timeout during the trial, the settled one once the verdict's actions are done", async () => {
    const m = machine();
    const notifier = new RecordingNotifier();
    const d = new Daemon({ ...m, notifier, exit: () => undefined, pid: 1 });
    await d.start(await m.backend.read());
    expect(notifier.watchdog).toEqual([0]);
    m.systemd.set("app.service", active());
    await settle();
    await d.idle();
    await settle();
    expect(m.backend.slots.B).toEqual({ good: true, bad: false });
    expect(notifier.watchdog).toEqual([0, SETTLED_WATCHDOG_USEC]);
    // A normal boot has nothing to decide: settled once its flag is written.
    const normal = machine();
    normal.backend.booted = "A";
    const n2 = new RecordingNotifier();
    await new Daemon({ ...normal, notifier: n2, exit: () => undefined, pid: 1 }).start(
      await normal.backend.read(),
    );
    expect(n2.watchdog).toEqual([0, SETTLED_WATCHDOG_USEC]);
  });

  it("a burst of checks coming up sends STATUS= at most every 100 ms, the latest text; the verdict's at once", async () => {
    const units = ["a.service", "b.service", "c.service", "d.service"];
    const m = machine({ assessment: { deadline: "30s", critical: { units } } });
    const notifier = new RecordingNotifier();
    const d = new Daemon({ ...m, notifier, exit: () => undefined, pid: 1 });
    await d.start(await m.backend.read());
    for (const u of units.slice(0, 3)) {
      m.systemd.set(u, active());
      await settle();
    }
    // The first change goes out; the two after it wait for the 100 ms to pass, and only the latest is sent.
    expect(notifier.sent.slice(1)).toEqual(["STATUS=trial boot of B: 1/4 critical checks up, 26s left"]);
    await m.clock.advanceTo(m.clock.now() + 100);
    expect(notifier.sent.slice(2)).toEqual(["STATUS=trial boot of B: 3/4 critical checks up, 26s left"]);
    m.systemd.set("d.service", active());
    await settle();
    await d.idle();
    expect(notifier.sent.slice(3)).toEqual(["STATUS=trial boot of B: healthy: all critical checks passed"]);
  });

  it("command checks run as transient units with their timeout and retry; the verdict stops the ones still retrying", async () => {
    const m = machine({
      assessment: {
        deadline: "30s",
        critical: { commands: ["curl -fsS http://127.0.0.1:8080/health"] },
        wanted: { commands: [{ run: "check-db", timeout: "5s", interval: "2s" }] },
      },
    });
    const d = m.daemon();
    await d.start(await m.backend.read());
    const [crit, wanted] = [...m.systemd.transient.entries()];
    expect(crit?.[0]).toBe("bootwarden-check-critical-curl.service");
    expect(crit?.[1]).toMatchObject({
      argv: ["/bin/sh", "-c", "curl -fsS http://127.0.0.1:8080/health"],
      timeoutMs: 60_000,
      remainAfterExit: true,
      environment: ["BOOTWARDEN_SLOT=B"],
    });
    expect(crit?.[1].restartMs).toBeUndefined();
    expect(wanted?.[0]).toBe("bootwarden-check-wanted-check-db.service");
    expect(wanted?.[1]).toMatchObject({ timeoutMs: 5000, restartMs: 2000 });
    // The wanted check failed once and waits for its retry; the critical one passed: a verdict is not yet due.
    m.systemd.set(
      "bootwarden-check-wanted-check-db.service",
      { ActiveState: "activating", SubState: "auto-restart" },
      { Result: "exit-code", ExecMainStatus: 2 },
    );
    m.systemd.set("bootwarden-check-critical-curl.service", active());
    await settle();
    expect(d.snapshot().assessment?.verdict).toBeUndefined();
    expect(d.snapshot().assessment?.checks.find((c) => c.def.id === "command:check-db")?.detail).toBe(
      "attempt 1 exited with status 2, retrying",
    );
    await m.clock.advanceTo(31_000);
    await d.idle();
    expect(d.snapshot().assessment?.verdict?.verdict).toBe("degraded");
    expect(m.systemd.stopped).toEqual(["bootwarden-check-wanted-check-db.service"]);
    expect(m.backend.writes).toEqual({ good: 1, bad: 0 });
  });

  it("a command check killed at its timeout fails the trial at once", async () => {
    const m = machine({ assessment: { deadline: "10m", critical: { commands: ["sleep infinity"] } } });
    const d = m.daemon();
    await d.start(await m.backend.read());
    m.systemd.set(
      "bootwarden-check-critical-sleep.service",
      { ActiveState: "failed", SubState: "failed" },
      { Result: "timeout" },
    );
    await settle();
    await d.idle();
    expect(d.snapshot().assessment?.verdict?.reason).toBe("command:sleep infinity failed: timed out");
    expect(m.systemd.started).toEqual(["reboot.target"]);
  });

  it("a restarted daemon finds its command units already there and only watches them", async () => {
    const m = machine({ assessment: { deadline: "30s", critical: { commands: ["true"] } } });
    await m.daemon().start(await m.backend.read());
    m.systemd.set("bootwarden-check-critical-true.service", active());
    const again = m.daemon();
    await again.start(await m.backend.read());
    await settle();
    await again.idle();
    expect(again.snapshot().assessment?.verdict?.verdict).toBe("healthy");
    expect(m.exits).toEqual([]);
  });

  it("the login notice: pending with the minutes left, then gone once blessed; the history records start and verdict", async () => {
    const m = machine({ assessment: { deadline: "5m", critical: { units: ["app.service"] } } });
    const d = m.daemon();
    await d.start(await m.backend.read());
    expect(m.motd.shown).toEqual(["bootwarden: trial boot of B: verdict pending, 5m left"]);
    await m.clock.advanceTo(5000 + 60_000);
    expect(m.motd.shown.at(-1)).toBe("bootwarden: trial boot of B: verdict pending, 4m left");
    m.systemd.set("app.service", active(64_000_000n));
    await settle();
    await d.idle();
    expect(m.motd.shown.at(-1)).toBeUndefined();
    expect(m.store.trials).toEqual([
      { slot: "B" },
      { slot: "B", verdict: "healthy", reason: "all critical checks passed", by: "daemon" },
    ]);
  });

  it("the normal boot after a rollback says so at login", async () => {
    const m = machine();
    m.store.lastTrial = { slot: "C", verdict: "unhealthy", reason: "unit:app.service failed", at: "x" };
    m.backend.slots.B = { good: true, bad: false };
    await m.daemon().start(await m.backend.read());
    expect(m.motd.shown).toEqual(["bootwarden: rolled back from C: unhealthy (unit:app.service failed)"]);
  });
});
