// The disk lock's helper prepared ahead of a write (a trial boot's daemon does so): it takes the real flock only when
// asked, holds it while the write runs, and reports another holder like the cold path does.
import { spawn } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareLock, withLock } from "../../src/bootstate/lock.js";
import { tempDir } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** FLOCK lines of /proc/locks on this file's inode. */
function flocksOn(file: string): string[] {
  const ino = String(statSync(file).ino);
  return readFileSync("/proc/locks", "utf8")
    .split("\n")
    .filter((l) => / FLOCK /.test(l) && l.trim().split(/\s+/)[5]?.endsWith(`:${ino}`));
}

describe("a prepared lock", () => {
  it("holds nothing until used, then the flock for exactly the write", async () => {
    const file = path.join(dir, "disk.img");
    writeFileSync(file, Buffer.alloc(4096));
    prepareLock(file);
    await new Promise((r) => setTimeout(r, 300));
    expect(flocksOn(file)).toEqual([]);
    const during = await withLock("gpt", file, file, async () => flocksOn(file));
    expect(during).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(flocksOn(file)).toEqual([]);
  });

  it("waits for another holder and names it when it gives up", async () => {
    const file = path.join(dir, "disk.img");
    writeFileSync(file, Buffer.alloc(4096));
    prepareLock(file, 1000);
    const holder = spawn("flock", [file, "sleep", "5"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 300));
    const err = await withLock("gpt", file, file, async () => "ran", 1000).catch((e: Error) => e);
    holder.kill();
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^gpt: ${file}: another writer holds the lock after 1s \\(held by pid \\d+: flock ${file} sleep 5, for pid \\d+: .+\\)$`,
      ),
    );
  });
});
