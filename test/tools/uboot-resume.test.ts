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
import { machine } from "../fakes/daemon-machine.js";
import type { MemoryStore } from "../fakes/fake-ports.js";
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
  const config = {
    bootState: { backend: "uboot", envConfig: fw, cmdline, ...bootState },
    assessment: { deadline: "30s", critical: { units: ["app.service"] } },
  };
  return { config, fw };
}

/** One daemon run in the same boot (the store keeps /run's status), on the real backend: app.service fails. */
async function run(config: object, store?: MemoryStore) {
  const m = machine(config, store, createBackend(configSchema.parse(config).bootState));
  const d = m.daemon();
  await d.start(await m.backend.read());
  m.systemd.set("app.service", { ActiveState: "failed", SubState: "failed" });
  await new Promise((r) => setTimeout(r, 20));
  await d.idle();
  await d.stop();
  return {
    store: m.store,
    result: {
      rebooted: m.systemd.started.includes("reboot.target"),
      markedBad: m.withId(MessageId.markedBad).length,
      healthy: m.flags.writes.some((w) => w.which === "healthy"),
    },
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
      const { store, result: first } = await run(config);
      expect(first).toEqual({ rebooted: true, markedBad: 1, healthy: false });
      expect(sh("fw_printenv", ["-c", fw])).toBe(c.after);
      // The daemon died after the mark and before it saved the rollback as done; systemd restarted it.
      expect(store.status?.done).toContain("rollback");
      store.status!.done = store.status!.done.filter((k) => k !== "rollback");
      const { result: again } = await run(config, store);
      expect(again).toEqual({ rebooted: true, markedBad: 1, healthy: false });
      expect(sh("fw_printenv", ["-c", fw])).toBe(c.after);
    });
  }
});
