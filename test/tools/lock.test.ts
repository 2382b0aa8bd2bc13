// The boot state's lock: flock(2) on our own descriptor of the disk, image or directory, through the native addon.
// Checked against the kernel's own view (/proc/locks) and against a real other writer (util-linux flock(1)).
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { withLock } from "../../src/bootstate/lock.js";
import { tempDir } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** FLOCK lines of /proc/locks on this file's inode, as "WRITE <pid>". */
function flocksOn(file: string): string[] {
  const ino = String(statSync(file).ino);
  return readFileSync("/proc/locks", "utf8")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === "FLOCK" && f[5]?.endsWith(`:${ino}`))
    .map((f) => `${f[3]} ${f[4]}`);
}

const image = () => {
  const file = path.join(dir, "disk.img");
  writeFileSync(file, Buffer.alloc(4096));
  return file;
};

/** util-linux flock(1) holding the file for `seconds`; resolves once the kernel shows its lock. */
async function otherWriter(file: string, seconds: number) {
  const holder = spawn("flock", [file, "sleep", String(seconds)], { stdio: "ignore" });
  while (flocksOn(file).length === 0) await new Promise((r) => setTimeout(r, 20));
  return holder;
}

describe("the boot state's lock", () => {
  it("is held by this process for exactly the write, and released after it", async () => {
    const file = image();
    expect(flocksOn(file)).toEqual([]);
    const during = await withLock("gpt", file, file, async () => flocksOn(file));
    expect(during).toEqual([`WRITE ${process.pid}`]);
    expect(flocksOn(file)).toEqual([]);
  });

  it("is released when the write fails, and the write's error is the one thrown", async () => {
    const file = image();
    const err = await withLock("gpt", file, file, async () => {
      throw new Error("write failed");
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe("write failed");
    expect(flocksOn(file)).toEqual([]);
  });

  it("serializes two writers of the same process: the second runs only after the first has finished", async () => {
    const file = image();
    const order: string[] = [];
    let release!: () => void;
    const first = withLock("gpt", file, file, async () => {
      order.push("first begins");
      await new Promise<void>((r) => (release = r));
      order.push("first ends");
    });
    await new Promise((r) => setTimeout(r, 50));
    const second = withLock("gpt", file, file, async () => void order.push("second"));
    await new Promise((r) => setTimeout(r, 100));
    expect(order).toEqual(["first begins"]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(["first begins", "first ends", "second"]);
  });

  it("waits for another writer that lets go within the wait, then writes", async () => {
    const file = image();
    const holder = await otherWriter(file, 0.4);
    const during = await withLock("gpt", file, file, async () => flocksOn(file), 5000);
    holder.kill();
    expect(during).toEqual([`WRITE ${process.pid}`]);
  });

  it("gives up after the wait and names the other holder; the write never runs", async () => {
    const file = image();
    const holder = await otherWriter(file, 5);
    let ran = false;
    const write = async () => {
      ran = true;
    };
    const err = await withLock("gpt", file, file, write, 300).catch((e: Error) => e);
    holder.kill();
    expect(ran).toBe(false);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^gpt: ${file}: another writer holds the lock after 0.3s \\(held by pid \\d+: flock ${file} sleep 5, for pid ${process.pid}: .+\\)$`,
      ),
    );
  });

  it("a FIFO planted as the target does not hang the open: the lock is taken and the write decides", async () => {
    const fifo = path.join(dir, "disk.img");
    spawnSync("mkfifo", [fifo]);
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(await withLock("gpt", fifo, fifo, async () => "ran", 300)).toBe("ran");
  });

  it("a target that is not there is one line naming it, nothing created", async () => {
    const file = path.join(dir, "missing.img");
    const err = await withLock("grubenv", file, "/boot/grub/grubenv", async () => "ran").catch(
      (e: Error) => e,
    );
    expect((err as Error).message).toBe("grubenv: /boot/grub/grubenv: cannot lock (open: ENOENT)");
    expect(() => statSync(file)).toThrow();
  });
});
