// The daemon's autogroup weight: written to the kernel's file only (never created), a failure said in one line. That
// the kernel takes it under bootwarden.service's sandbox is e2e-nspawn's (healthy upgrade).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AUTOGROUP_NICE, raiseAutogroup } from "../../src/base/priority.js";
import { tempDir } from "../helpers/tools.js";

const { dir, cleanup } = tempDir();
afterAll(() => cleanup());

describe("raiseAutogroup", () => {
  it("writes the nice value into the file it is handed", () => {
    const f = path.join(dir, "autogroup");
    writeFileSync(f, "/autogroup-7 nice 0\n");
    expect(raiseAutogroup(f)).toBeUndefined();
    expect(readFileSync(f, "utf8").startsWith(`${AUTOGROUP_NICE}\n`)).toBe(true);
  });

  it("a kernel without autogroups (no file) is no problem, and no file is created", () => {
    const f = path.join(dir, "none");
    expect(raiseAutogroup(f)).toBeUndefined();
    expect(existsSync(f)).toBe(false);
  });

  it("a file it cannot write is said in one line naming it", () => {
    const d = path.join(dir, "a-directory");
    mkdirSync(d);
    expect(raiseAutogroup(d)).toBe(`${d}: EISDIR`);
  });
});
