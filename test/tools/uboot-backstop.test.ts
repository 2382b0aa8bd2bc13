// The backstop on the uboot backend, in process from its ports (fake systemd and clock), on an env made by mkenvimage
// and judged by fw_printenv: a trial with no verdict at the deadline is marked bad and rebooted, for each scheme; a
// blessed slot is left alone. Needs fw_printenv, mkenvimage, and root (the locks).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MessageId } from "../../src/base/message-ids.js";
import { runBackstop } from "../../src/commands/backstop.js";
import { FakeClock, MemoryFlags, MemoryStore, memoryLogger } from "../fakes/fake-ports.js";
import { FakeSystemd } from "../fakes/fake-systemd.js";
import { requireTool, sh, tempDir, writeConfig } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  for (const t of ["fw_printenv", "mkenvimage"]) requireTool(t);
});
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function setup(vars: string[], scheme: string, cmdline: string, extra = ""): { cfg: string; fw: string } {
  const txt = path.join(dir, "env.txt");
  writeFileSync(txt, `${vars.join("\n")}\n`);
  const img = path.join(dir, "env.img");
  sh("mkenvimage", ["-s", "0x400", "-o", img, txt]);
  const fw = path.join(dir, "fw_env.config");
  writeFileSync(fw, `${img} 0x0 0x400\n`);
  const c = path.join(dir, "cmdline");
  writeFileSync(c, `${cmdline}\n`);
  const cfg = writeConfig(
    dir,
    `bootState:\n  backend: uboot\n  scheme: ${scheme}\n  envConfig: ${fw}\n  cmdline: ${c}\n${extra}` +
      "assessment:\n  deadline: 30s\n  critical:\n    units: [app.service]\n",
  );
  return { cfg, fw };
}

async function backstop(cfg: string) {
  const systemd = new FakeSystemd();
  const { log, records } = memoryLogger();
  const code = await runBackstop(cfg, {
    log,
    store: new MemoryStore(),
    flags: new MemoryFlags(),
    clock: new FakeClock(100_000),
    systemd: () => systemd,
  });
  return {
    code,
    started: systemd.started,
    marked: records.filter((r) => r.MESSAGE_ID === MessageId.markedBad),
  };
}

describe("the backstop on a U-Boot environment", () => {
  it("RAUC: a trial with no verdict at the deadline is taken out of BOOT_ORDER and rebooted", async () => {
    const { cfg, fw } = setup(["BOOT_ORDER=B A", "BOOT_A_LEFT=3", "BOOT_B_LEFT=2"], "rauc", "rauc.slot=B");
    const r = await backstop(cfg);
    expect(r.code).toBe(0);
    expect(r.marked).toHaveLength(1);
    expect(r.started).toEqual(["reboot.target"]);
    expect(sh("fw_printenv", ["-c", fw])).toBe("BOOT_A_LEFT=3\nBOOT_B_LEFT=0\nBOOT_ORDER=A\n");
  });

  it("Mender and SWUpdate: the trial's part is pointed back at the other one, and rebooted", async () => {
    const m = setup(
      ["bootcount=1", "mender_boot_part=3", "mender_boot_part_hex=3", "upgrade_available=1"],
      "mender",
      "console=ttyS0 root=/dev/mmcblk0p3 rootwait",
    );
    expect((await backstop(m.cfg)).started).toEqual(["reboot.target"]);
    expect(sh("fw_printenv", ["-c", m.fw, "-n", "mender_boot_part"]).trim()).toBe("2");
    const s = setup(
      ["rootpart=b", "ustate=1"],
      "swupdate",
      "",
      "  slotVariable: rootpart\n  parts: [a, b]\n",
    );
    expect((await backstop(s.cfg)).started).toEqual(["reboot.target"]);
    expect(sh("fw_printenv", ["-c", s.fw])).toBe("rootpart=a\nupgrade_available=0\nustate=3\n");
  });

  it("a blessed RAUC slot is left alone", async () => {
    const { cfg, fw } = setup(["BOOT_ORDER=B A", "BOOT_A_LEFT=3", "BOOT_B_LEFT=3"], "rauc", "rauc.slot=B");
    const r = await backstop(cfg);
    expect(r.started).toEqual([]);
    expect(r.marked).toHaveLength(0);
    expect(sh("fw_printenv", ["-c", fw])).toBe("BOOT_A_LEFT=3\nBOOT_B_LEFT=3\nBOOT_ORDER=B A\n");
  });
});
