// `bootwarden wait`'s exit statuses, each pinned, on the real CLI: this boot's verdict from the daemon's status
// file, and with --slot the verdict on a target slot of a Flatcar-style image (cgpt's attributes) and the trial
// history. The machine's files live under BOOTWARDEN_ROOT.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cgptAttrs, cli, makeFlatcarDisk, requireTool, sh, tempDir } from "../helpers/tools.js";

let dir: string;
let root: string;
let disk: string;
let cleanup: () => void;
beforeAll(() => requireTool("cgpt"));
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  root = path.join(dir, "root");
  disk = path.join(root, "disk.img"); // the config's /disk.img, under BOOTWARDEN_ROOT
  mkdirSync(path.join(root, "run/bootwarden"), { recursive: true });
  mkdirSync(path.join(root, "var/lib/bootwarden"), { recursive: true });
  makeFlatcarDisk(disk);
});
afterEach(() => cleanup());

const config = (booted: string) => {
  const f = path.join(dir, "config.yaml");
  writeFileSync(f, `bootState:\n  backend: gpt\n  disk: /disk.img\n  booted: ${booted}\n`);
  return f;
};
const status = (s: object) =>
  writeFileSync(
    path.join(root, "run/bootwarden/status.json"),
    JSON.stringify({ updatedAt: "", pid: 1, done: [], notes: [], ...s }),
  );
const assessment = (verdict: string) => ({
  slot: "PARTLABEL=USR-B",
  deadline: 1,
  settle: 0,
  action: "rollback",
  checks: [],
  verdict: { verdict, reason: `the app was ${verdict}`, at: 1 },
});
const partuuid = (i: number) =>
  `PARTUUID=${sh("cgpt", ["show", "-i", String(i), "-u", disk])
    .trim()
    .toLowerCase()}`;
const wait = (...args: string[]) => cli(["wait", ...args], { BOOTWARDEN_ROOT: root }, 20_000);

describe("bootwarden wait: 0 blessed, 1 unhealthy or rolled back, 2 timeout, 3 not booted into the target yet", () => {
  it("0: a normal boot, or a blessed trial (once marked good)", () => {
    status({ phase: "normal", slot: "PARTLABEL=USR-A" });
    expect(wait()).toMatchObject({ status: 0, stdout: "normal boot of PARTLABEL=USR-A\n" });
    status({
      phase: "verdict",
      slot: "PARTLABEL=USR-B",
      assessment: assessment("healthy"),
      done: ["markGood"],
    });
    expect(wait("--slot", "PARTLABEL=USR-B", "--config", config("PARTLABEL=USR-B"))).toMatchObject({
      status: 0,
      stdout: "healthy: the app was healthy\n",
    });
  });

  it("1: this boot's trial is unhealthy", () => {
    status({ phase: "verdict", slot: "PARTLABEL=USR-B", assessment: assessment("unhealthy") });
    expect(wait()).toMatchObject({ status: 1, stdout: "unhealthy: the app was unhealthy\n" });
  });

  it("1: the target's trial was rolled back (history), or the target is marked bad (boot state)", () => {
    writeFileSync(
      path.join(root, "var/lib/bootwarden/history.json"),
      JSON.stringify([
        {
          boot: "b1",
          slot: "PARTLABEL=USR-B",
          id: partuuid(2),
          startedAt: "x",
          verdict: "unhealthy",
          reason: "app failed",
        },
      ]),
    );
    expect(wait("--slot", "PARTLABEL=USR-B", "--config", config("PARTLABEL=USR-A"))).toMatchObject({
      status: 1,
      stdout: "PARTLABEL=USR-B was rolled back: app failed\n",
    });
    writeFileSync(path.join(root, "var/lib/bootwarden/history.json"), "[]");
    sh("cgpt", ["add", "-i", "2", "-P", "0", "-T", "0", "-S", "0", disk]);
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 0, tries: 0, successful: false });
    expect(wait("--slot", "PARTLABEL=USR-B", "--config", config("PARTLABEL=USR-A")).status).toBe(1);
  });

  it("2: no verdict within --timeout", () => {
    status({
      phase: "assessing",
      slot: "PARTLABEL=USR-B",
      assessment: { ...assessment("x"), verdict: undefined },
    });
    expect(wait("--timeout", "1s")).toMatchObject({ status: 2, stdout: "no verdict within 1s\n" });
  });

  it("3: the machine has not booted the target yet (an armed slot, nothing in the history)", () => {
    sh("cgpt", ["add", "-i", "2", "-P", "2", "-T", "1", "-S", "0", disk]);
    expect(wait("--slot", "PARTLABEL=USR-B", "--config", config("PARTLABEL=USR-A"))).toMatchObject({
      status: 3,
      stdout: "not booted into PARTLABEL=USR-B yet (booted PARTLABEL=USR-A)\n",
    });
  });

  it("a wrong --timeout is a usage error, in one line", () => {
    expect(wait("--timeout", "soon")).toMatchObject({
      status: 2,
      stderr: 'bootwarden: wait: --timeout "soon": not a duration (90s, 15m, 1h); see bootwarden --help\n',
    });
  });
});
