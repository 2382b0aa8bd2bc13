// Flags whose directory appears after the daemon started: judged again when the flag appears (as root, with real
// owners), so a directory another user owns cannot fake a verdict.
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Observation } from "../../src/core/assessment.js";
import { FlagWatcher } from "../../src/watch/flags.js";
import { tempDir } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
const before = process.env.BOOTWARDEN_ROOT;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  process.env.BOOTWARDEN_ROOT = dir;
  mkdirSync(path.join(dir, "run"), { mode: 0o755 });
});
afterEach(() => {
  if (before === undefined) delete process.env.BOOTWARDEN_ROOT;
  else process.env.BOOTWARDEN_ROOT = before;
  cleanup();
});

const until = async (pred: () => boolean) => {
  for (let i = 0; !pred(); i++) {
    if (i > 250) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

async function appear(owner: number, checkTrust = true): Promise<Observation[]> {
  const seen: Observation[] = [];
  const file = path.join(dir, "run/app/ready");
  const w = new FlagWatcher(
    [{ id: "flag:ready", file, path: "/run/app/ready", failure: false, checkTrust }],
    (_, o) => seen.push(o),
    () => 7,
  );
  await w.start();
  mkdirSync(path.join(dir, "run/app"), { mode: 0o755 });
  chownSync(path.join(dir, "run/app"), owner, owner);
  writeFileSync(path.join(dir, "run/app/ready"), "");
  await until(() => seen.length > 1);
  await w.close();
  return seen;
}

describe("a flag in a directory created after the start", () => {
  it("owned by another user: the flag is ignored, saying why", async () => {
    expect(await appear(65534)).toEqual([
      { kind: "pending", detail: "absent" },
      { kind: "pending", detail: "ignored: /run/app/ready: /run/app is owned by uid 65534, not root" },
    ]);
  });

  it("owned by root: the flag counts", async () => {
    expect((await appear(0)).at(-1)).toEqual({ kind: "up", since: 7, detail: "present" });
  });

  it("with allowUntrustedFlagPaths the flag counts all the same", async () => {
    expect((await appear(65534, false)).at(-1)).toEqual({ kind: "up", since: 7, detail: "present" });
  });
});
