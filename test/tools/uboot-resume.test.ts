// A rollback on U-Boot's Mender and SWUpdate schemes that the daemon resumes after a crash between the mark bad and
// the reboot: the real UbootBackend on an env made by mkenvimage and judged by fw_printenv, the Daemon from its ports.
// The mark points the slot variable at the other part, so the booted part must come from root=, or the restarted
// daemon takes the failed part for the fallback, calls the boot normal, and never reboots. Needs fw_printenv,
// mkenvimage, and root (the locks).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MessageId } from "../../src/base/message-ids.js";
import { createBackend } from "../../src/bootstate/registry.js";
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
import { requireTool, sh, tempDir } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  for (const t of ["fw_printenv", "mkenvimage"]) requireTool(t);
});
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function setup(vars: string[], bootState: Record<string, unknown>) {
  const txt = path.join(dir, "env.txt");
  writeFileSync(txt, `${vars.join("\n")}\n`);
  const img = path.join(dir, "env.img");
  sh("mkenvimage", ["-s", "0x400", "-o", img, txt]);
  const fw = path.join(dir, "fw_env.config");
  writeFileSync(fw, `${img} 0x0 0x400\n`);
  const cmdline = path.join(dir, "cmdline");
  writeFileSync(cmdline, "console=ttyS0 root=/dev/mmcblk0p3 rootwait\n");
  const config = configSchema.parse({
    bootState: { backend: "uboot", envConfig: fw, cmdline, ...bootState },
    assessment: { deadline: "30s", critical: { units: ["app.service"] } },
  });
  return { config, fw };
}

/** One daemon run in the same boot (the store keeps /run's status): app.service fails. */
async function run(config: ReturnType<typeof setup>["config"], store: MemoryStore) {
  const backend = createBackend(config.bootState);
  const systemd = new FakeSystemd();
  const flags = new MemoryFlags();
  const { log, records } = memoryLogger();
  const d = new Daemon({
    config,
    backend,
    systemd,
    store,
    flags,
    hooks: new RecordingHooks(),
    motd: new MemoryMotd(),
    notifier: new RecordingNotifier(),
    collectHeap: () => 0,
    log,
    clock: new FakeClock(5000),
    exit: () => undefined,
    pid: 1,
  });
  await d.start(await backend.read());
  systemd.set("app.service", { ActiveState: "failed", SubState: "failed" });
  await new Promise((r) => setTimeout(r, 20));
  await d.idle();
  await d.stop();
  return {
    rebooted: systemd.started.includes("reboot.target"),
    markedBad: records.filter((r) => r.MESSAGE_ID === MessageId.markedBad).length,
    healthy: flags.writes.some((w) => w.which === "healthy"),
  };
}

describe("a rollback resumed after a crash between the mark bad and the reboot, on U-Boot", () => {
  const cases = [
    {
      scheme: "mender",
      vars: [
        "bootcount=1",
        "bootlimit=1",
        "mender_boot_part=3",
        "mender_boot_part_hex=3",
        "upgrade_available=1",
      ],
      extra: {},
      after: "bootcount=1\nbootlimit=1\nmender_boot_part=2\nmender_boot_part_hex=2\nupgrade_available=0\n",
    },
    {
      scheme: "swupdate",
      vars: ["bootcount=1", "bootlimit=3", "rootpart=3", "upgrade_available=1", "ustate=1"],
      extra: { slotVariable: "rootpart", parts: ["2", "3"] },
      after: "bootcount=1\nbootlimit=3\nrootpart=2\nupgrade_available=0\nustate=3\n",
    },
  ];
  for (const c of cases) {
    it(`${c.scheme}: the restarted daemon reboots again and leaves the env as the mark left it`, async () => {
      const { config, fw } = setup(c.vars, { scheme: c.scheme, ...c.extra });
      const store = new MemoryStore();
      const first = await run(config, store);
      expect(first).toEqual({ rebooted: true, markedBad: 1, healthy: false });
      expect(sh("fw_printenv", ["-c", fw])).toBe(c.after);
      // The daemon died after the mark and before it saved the rollback as done; systemd restarted it.
      expect(store.status?.done).toContain("rollback");
      store.status!.done = store.status!.done.filter((k) => k !== "rollback");
      const again = await run(config, store);
      expect(again).toEqual({ rebooted: true, markedBad: 1, healthy: false });
      expect(sh("fw_printenv", ["-c", fw])).toBe(c.after);
    });
  }
});
