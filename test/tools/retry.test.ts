// `assessment.action: retry` on the gpt backend, in process: the real GptBackend on a Flatcar-style image (cgpt is
// the judge), the Daemon and the backstop from their ports, and between boots what Flatcar's GRUB does (gptprio.next:
// the highest priority slot with tries left or a success; a trial spends one try). Needs cgpt and sgdisk.
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MessageId } from "../../src/base/message-ids.js";
import { gptprioNext } from "../../src/bootstate/gpt/attributes.js";
import { createBackend } from "../../src/bootstate/registry.js";
import { runBackstop } from "../../src/commands/backstop.js";
import { configSchema } from "../../src/config/schema.js";
import { Daemon } from "../../src/daemon/daemon.js";
import {
  FakeClock,
  MemoryFlags,
  MemoryMotd,
  MemoryStore,
  memoryLogger,
  RecordingHooks,
  RecordingNotifier,
} from "../fakes/fake-ports.js";
import { FakeSystemd } from "../fakes/fake-systemd.js";
import { cgptAttrs, makeFlatcarDisk, requireTool, sh, tempDir, writeConfig } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
let disk: string;

beforeAll(() => {
  requireTool("cgpt");
  requireTool("sgdisk");
});
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  disk = path.join(dir, "disk.img");
  makeFlatcarDisk(disk);
});
afterEach(() => cleanup());

const bootCfg = (booted: string, action = "retry") =>
  configSchema.parse({
    bootState: { backend: "gpt", disk, booted },
    assessment: { deadline: "30s", action, critical: { units: ["app.service"] } },
  });

/** Flatcar's GRUB choosing a slot: src's gptprio.next rule on cgpt's reading, its tries decrement written with cgpt. */
function chooseSlot(): "USR-A" | "USR-B" {
  const pick = gptprioNext([1, 2].map((i) => ({ i, ...cgptAttrs(disk, i) })));
  if (!pick) throw new Error("gptprio: no bootable slot");
  if (!pick.successful) sh("cgpt", ["add", "-i", String(pick.i), "-T", String(pick.tries - 1), disk]);
  return pick.i === 1 ? "USR-A" : "USR-B";
}

/** One boot: the Daemon on the real backend; the app fails on B. Returns what the boot did. */
async function boot(store: MemoryStore, n: number, action = "retry") {
  store.bootId = `boot-${n}`;
  store.status = undefined; // /run is empty at every boot
  const slot = chooseSlot();
  const config = bootCfg(`PARTLABEL=${slot}`, action);
  const backend = createBackend(config.bootState);
  const systemd = new FakeSystemd();
  const motd = new MemoryMotd();
  const { log, records } = memoryLogger();
  const d = new Daemon({
    config,
    backend,
    systemd,
    store,
    flags: new MemoryFlags(),
    hooks: new RecordingHooks(),
    motd,
    notifier: new RecordingNotifier(),
    collectHeap: () => 0,
    log,
    clock: new FakeClock(5000),
    exit: () => undefined,
    pid: 1,
  });
  await d.start(await backend.read());
  if (slot === "USR-B") systemd.set("app.service", { ActiveState: "failed", SubState: "failed" });
  else systemd.set("app.service", { ActiveState: "active", SubState: "running" });
  await new Promise((r) => setTimeout(r, 20));
  await d.idle();
  await d.stop();
  const ids = (id: string) => records.filter((r) => r.MESSAGE_ID === id).map((r) => r.msg);
  return {
    slot,
    rebooted: systemd.started.includes("reboot.target"),
    motd: motd.shown,
    ids,
    B: cgptAttrs(disk, 2),
  };
}

describe("action: retry on the gpt backend, with gptprio's countdown between boots", () => {
  it("B armed with 3 tries: two unhealthy tries reboot into B unmarked, the third marks it bad, gptprio boots A", async () => {
    const armer = createBackend(bootCfg("PARTLABEL=USR-A").bootState);
    await armer.arm("PARTLABEL=USR-B", 3);
    const store = new MemoryStore();

    const b1 = await boot(store, 1);
    expect(b1.slot).toBe("USR-B");
    expect(b1.rebooted).toBe(true);
    expect(b1.B).toEqual({ priority: 2, tries: 2, successful: false }); // not marked: only GRUB's decrement
    expect(b1.ids(MessageId.trialRetry)).toEqual([
      "rebooting into the trial of PARTLABEL=USR-B again (try 1 of 3), 2 tries left: unit:app.service failed: failed (failed)",
    ]);
    expect(b1.ids(MessageId.markedBad)).toEqual([]);
    expect(b1.motd[0]).toBe(
      "bootwarden: trial boot of PARTLABEL=USR-B (try 1 of 3): verdict pending, 1m left",
    );
    expect(b1.motd.at(-1)).toMatch(
      /^bootwarden: trial boot of PARTLABEL=USR-B \(try 1 of 3\) failed, rebooting to try again: /,
    );

    const b2 = await boot(store, 2);
    expect(b2.slot).toBe("USR-B");
    expect(b2.B).toEqual({ priority: 2, tries: 1, successful: false });
    expect(b2.ids(MessageId.trialRetry)).toEqual([
      "rebooting into the trial of PARTLABEL=USR-B again (try 2 of 3), 1 try left: unit:app.service failed: failed (failed)",
    ]);

    const b3 = await boot(store, 3);
    expect(b3.slot).toBe("USR-B");
    expect(b3.ids(MessageId.trialRetry)).toEqual([]);
    expect(b3.ids(MessageId.markedBad)).toHaveLength(1);
    expect(b3.rebooted).toBe(true);
    expect(b3.B).toEqual({ priority: 0, tries: 0, successful: false });
    expect(b3.motd.at(-1)).toMatch(/\(try 3 of 3\) failed, rolling back: /);

    const b4 = await boot(store, 4);
    expect(b4.slot).toBe("USR-A");
    expect(b4.rebooted).toBe(false);
    expect(store.log.map((r) => [r.boot, r.try, r.of])).toEqual([
      ["boot-1", 1, 3],
      ["boot-2", 2, 3],
      ["boot-3", 3, 3],
    ]);
    expect([...store.failures.values()]).toEqual([1]); // one failed trial, counted once, at the rollback
  });

  it("action: rollback (the default) marks the first unhealthy try bad, whatever tries are left", async () => {
    await createBackend(bootCfg("PARTLABEL=USR-A").bootState).arm("PARTLABEL=USR-B", 3);
    const store = new MemoryStore();
    const b1 = await boot(store, 1, "rollback");
    expect(b1.ids(MessageId.markedBad)).toHaveLength(1);
    expect(b1.B).toEqual({ priority: 0, tries: 0, successful: false });
    expect((await boot(store, 2, "rollback")).slot).toBe("USR-A");
  });

  it("the backstop follows the choice: no verdict with tries left reboots unmarked; on the last try it marks bad", async () => {
    await createBackend(bootCfg("PARTLABEL=USR-A").bootState).arm("PARTLABEL=USR-B", 2);
    const cfgFile = (booted: string) =>
      writeConfig(
        dir,
        `bootState:\n  backend: gpt\n  disk: ${disk}\n  booted: ${booted}\nassessment:\n  deadline: 30s\n  action: retry\n  critical:\n    units: [app.service]\n`,
      );
    const run = async () => {
      const systemd = new FakeSystemd();
      const { log, records } = memoryLogger();
      const code = await runBackstop(cfgFile(`PARTLABEL=${chooseSlot()}`), {
        log,
        store: new MemoryStore(),
        flags: new MemoryFlags(),
        clock: new FakeClock(100_000),
        systemd: () => systemd,
      });
      return { code, systemd, records };
    };
    const first = await run();
    expect(first.code).toBe(0);
    expect(first.systemd.started).toEqual(["reboot.target"]);
    expect(first.records.filter((r) => r.MESSAGE_ID === MessageId.trialRetry)).toHaveLength(1);
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 2, tries: 1, successful: false });
    const last = await run();
    expect(last.systemd.started).toEqual(["reboot.target"]);
    expect(last.records.filter((r) => r.MESSAGE_ID === MessageId.markedBad)).toHaveLength(1);
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 0, tries: 0, successful: false });
  });
});
