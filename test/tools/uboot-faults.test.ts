// Power-loss and I/O faults at every write of the U-Boot environment, as for GPT: strace makes the one pwrite64 or
// the fsync of a real `bootwarden` run fail with EIO (a pwrite64 that fails never reaches the disk). Whatever the
// point, libubootenv's fw_printenv must read the environment of before or of after the operation (never a mix, never
// a bad CRC), bootwarden says so in one line naming the file, and the same operation run again completes it.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWithFault, requireTool, sh, tempDir, writeConfig } from "../helpers/tools.js";

const SIZE = 0x400;
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  for (const t of ["strace", "fw_printenv", "fw_setenv", "mkenvimage"]) requireTool(t);
  ({ dir, cleanup } = tempDir());
});
afterAll(() => cleanup());

interface Op {
  name: string;
  booted: string;
  args: string[];
  /** What the boot loader did before the operation (fw_setenv arguments), on top of A and B good. */
  before: string[][];
}
const OPS: Op[] = [
  { name: "arm", booted: "A", args: ["arm", "--slot", "B", "--tries", "2"], before: [] },
  {
    name: "mark-good",
    booted: "B",
    args: ["mark-good"],
    before: [
      ["BOOT_ORDER", "B A"],
      ["BOOT_B_LEFT", "1"],
    ],
  },
  {
    name: "mark-bad",
    booted: "B",
    args: ["mark-bad"],
    before: [
      ["BOOT_ORDER", "B A"],
      ["BOOT_B_LEFT", "1"],
    ],
  },
];

/** A fresh env (one copy, or a redundant pair) brought to the state before `op`; returns its fw_env.config. */
function fresh(op: Op, redundant: boolean, name: string): string {
  const txt = path.join(dir, "env.txt");
  writeFileSync(txt, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\nbootcmd=run distro_bootcmd\n");
  const img = path.join(dir, `${name}.img`);
  sh("mkenvimage", [...(redundant ? ["-r"] : []), "-s", String(SIZE), "-o", img, txt]);
  if (redundant) sh("sh", ["-c", `cat ${img} ${img} > ${img}.2 && mv ${img}.2 ${img}`]);
  const fw = path.join(dir, `${name}.config`);
  const hex = `0x${SIZE.toString(16)}`;
  writeFileSync(fw, `${img} 0x0 ${hex}\n${redundant ? `${img} ${hex} ${hex}\n` : ""}`);
  for (const [k, v] of op.before) sh("fw_setenv", ["-c", fw, k!, v!]);
  return fw;
}

function config(fw: string, op: Op, name: string): string {
  const cmdline = path.join(dir, `${name}.cmdline`);
  writeFileSync(cmdline, `console=ttyS0 rauc.slot=${op.booted}\n`);
  return writeConfig(
    dir,
    `bootState:\n  backend: uboot\n  scheme: rauc\n  envConfig: ${fw}\n  cmdline: ${cmdline}\n`,
    `${name}.yaml`,
  );
}

const run = (op: Op, cfg: string, inject?: string) => cliWithFault([...op.args, "--config", cfg], inject);

const printenv = (fw: string) => sh("fw_printenv", ["-c", fw]);

describe.each([false, true])("uboot, redundant %s: a fault at every write", (redundant) => {
  describe.each(OPS)("$name", (op) => {
    let before = "";
    let after = "";
    beforeAll(() => {
      const name = `${op.name}-${redundant}-ref`;
      const fw = fresh(op, redundant, name);
      before = printenv(fw);
      const r = run(op, config(fw, op, name));
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      after = printenv(fw);
      expect(after).not.toBe(before);
    });

    // Each operation is one pwrite64 of the whole env (the other copy on a redundant pair) and one fsync.
    it.each(["pwrite64:error=EIO:when=1", "fsync:error=EIO:when=1"])("%s", (inject) => {
      const name = `${op.name}-${redundant}-${inject.split(":")[0]}`;
      const fw = fresh(op, redundant, name);
      const cfg = config(fw, op, name);
      const r = run(op, cfg, inject);
      expect(r.status).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      const img = path.join(dir, `${name}.img`).replace(/\./g, "\\.");
      expect(r.stderr).toMatch(new RegExp(`^bootwarden: uboot: ${img}: cannot write the environment: .*EIO`));
      // A failed pwrite64 left the disk as it was; a failed fsync after a good write may leave either.
      const now = printenv(fw);
      if (inject.startsWith("pwrite64")) expect(now).toBe(before);
      else expect([before, after]).toContain(now);
      const again = run(op, cfg);
      expect(again.stderr).toBe("");
      expect(again.status).toBe(0);
      expect(printenv(fw)).toBe(after);
    });
  });
});
