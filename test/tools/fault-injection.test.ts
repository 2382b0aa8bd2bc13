// Power-loss and I/O faults at every write of the boot state: strace makes the Nth pwrite64 or fdatasync of a real
// `bootwarden` run fail with EIO (that write, and everything after it, never reaches the disk). Whatever the point,
// one copy of the GPT must stay intact, the slot the boot loader picks must be the one before or the one after the
// operation (never an unarmed one), and the next write must repair the table.

import { spawnSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gptprioNext } from "../../src/bootstate/gpt/attributes.js";
import {
  CLI,
  cgptAttrs,
  cliWithFault,
  makeFlatcarDisk,
  requireTool,
  sgdiskVerify,
  sh,
  tempDir,
  writeConfig,
} from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  requireTool("strace");
  requireTool("cgpt");
  ({ dir, cleanup } = tempDir());
});
afterAll(() => cleanup());

interface Op {
  name: string;
  booted: string;
  args: string[];
  /** Brings a fresh disk to the state before the operation. */
  prepare(disk: string): void;
}

const arm = (disk: string) => sh("cgpt", ["add", "-i", "2", "-P", "2", "-T", "1", "-S", "0", disk]);
const OPS: Op[] = [
  {
    name: "arm",
    booted: "PARTLABEL=USR-A",
    args: ["arm", "--slot", "PARTLABEL=USR-B", "--tries", "2"],
    prepare: () => {},
  },
  { name: "mark-good", booted: "PARTLABEL=USR-B", args: ["mark-good"], prepare: arm },
  { name: "mark-bad", booted: "PARTLABEL=USR-B", args: ["mark-bad"], prepare: arm },
];

/** The slot label Flatcar's GRUB would boot, from the table as our reader (primary, else backup) sees it. */
function chosen(cfg: string): string | undefined {
  const r = spawnSync(process.execPath, [CLI, "status", "--json", "--config", cfg], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`status failed: ${r.stderr}`);
  const slots = (
    JSON.parse(r.stdout).slots as {
      name: string;
      detail: { priority: number; tries: number; successful: boolean };
    }[]
  ).map((s) => ({ name: s.name, ...s.detail }));
  return gptprioNext(slots)?.name;
}

const run = (op: Op, cfg: string, inject?: string) => cliWithFault([...op.args, "--config", cfg], inject);

describe.each(OPS)("$name with a fault at every write", (op) => {
  const base = () => path.join(dir, `${op.name}.base.img`);
  let before: string | undefined;
  let after: string | undefined;

  beforeAll(() => {
    makeFlatcarDisk(base());
    op.prepare(base());
    const disk = path.join(dir, `${op.name}.ref.img`);
    copyFileSync(base(), disk);
    const cfg = writeConfig(
      dir,
      `bootState:\n  backend: gpt\n  disk: ${disk}\n  booted: ${op.booted}\n`,
      `${op.name}.ref.yaml`,
    );
    before = chosen(cfg);
    const r = run(op, cfg);
    expect(r.stderr).toBe("");
    after = chosen(cfg);
  });

  // Each operation writes 4 blocks (array + header, backup then primary) and syncs twice (fdatasync).
  it.each([
    ...[1, 2, 3, 4].map((k) => `pwrite64:error=EIO:when=${k}`),
    ...[1, 2].map((k) => `fdatasync:error=EIO:when=${k}`),
  ])("%s", (inject) => {
    const disk = path.join(dir, `${op.name}.img`);
    copyFileSync(base(), disk);
    const cfg = writeConfig(
      dir,
      `bootState:\n  backend: gpt\n  disk: ${disk}\n  booted: ${op.booted}\n`,
      `${op.name}.yaml`,
    );
    const r = run(op, cfg, inject);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^bootwarden: gpt: ${disk.replace(/\./g, "\\.")}: .*EIO`));
    // Never both copies bad: the table still reads, and the boot loader picks the slot of before or after.
    expect([before, after]).toContain(chosen(cfg));
    // The next write (the same operation, as a restarted daemon or the operator would retry) repairs the table.
    const again = run(op, cfg);
    expect(again.stderr).toBe("");
    const v = sgdiskVerify(disk);
    expect(v).toMatch(/^No problems found/m);
    expect(v).not.toMatch(/corrupt/);
    const b = readFileSync(disk);
    expect(b.subarray(1024, 1024 + 16384).equals(b.subarray(b.length - 512 - 16384, b.length - 512))).toBe(
      true,
    );
    expect(chosen(cfg)).toBe(after);
    expect(cgptAttrs(disk, 1).successful).toBe(true);
  });
});
