// The boot state's lock: flock(2) through the native addon on bootwarden's own root-only lock file (and on a block
// device itself). Checked against the kernel's own view (/proc/locks), a real other writer (util-linux flock(1)), and
// an unprivileged reader's shared lock on everything it can open.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { withLock } from "../../src/bootstate/lock.js";
import { tempDir } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
let lockFile: string;
const before = process.env.BOOTWARDEN_ROOT;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  process.env.BOOTWARDEN_ROOT = dir;
  lockFile = path.join(dir, "run/bootwarden/boot-state.lock");
});
afterEach(() => {
  if (before === undefined) delete process.env.BOOTWARDEN_ROOT;
  else process.env.BOOTWARDEN_ROOT = before;
  cleanup();
});

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
  writeFileSync(file, Buffer.alloc(4096), { mode: 0o644 });
  return file;
};

/** util-linux flock(1) holding `file` for `seconds` (as `user`, shared or not); resolves once the kernel shows it. */
async function otherWriter(file: string, seconds: number, { user = "root", shared = false } = {}) {
  const args = ["flock", ...(shared ? ["-s"] : []), file, "sleep", String(seconds)];
  const holder =
    user === "root"
      ? spawn(args[0]!, args.slice(1), { stdio: "ignore" })
      : spawn("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...args], { stdio: "ignore" });
  for (let i = 0; flocksOn(file).length === 0; i++) {
    if (i > 250) throw new Error(`flock(1) as ${user} never took ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return holder;
}

/** The lock file as bootwarden makes it, so that another process can hold it first. */
function makeLockFile(): string {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  writeFileSync(lockFile, "", { mode: 0o600 });
  return lockFile;
}

describe("the boot state's lock", () => {
  it("is held by this process on its own 0600 file for exactly the write, and released after it", async () => {
    const file = image();
    const during = await withLock("gpt", file, file, async () => [flocksOn(lockFile), flocksOn(file)]);
    expect(during).toEqual([[`WRITE ${process.pid}`], []]);
    expect(flocksOn(lockFile)).toEqual([]);
    expect(statSync(lockFile).mode & 0o777).toBe(0o600);
  });

  it("an unprivileged reader's shared lock on the image does not hold the write back", async () => {
    chmodSync(dir, 0o755); // readable, as /boot and its image usually are
    const file = image();
    const squatter = await otherWriter(file, 30, { user: "nobody", shared: true });
    try {
      expect(flocksOn(file)).toEqual([expect.stringMatching(/^READ \d+$/)]);
      expect(await withLock("gpt", file, file, async () => "ran", 300)).toBe("ran");
    } finally {
      squatter.kill();
    }
  });

  it("the lock file cannot be opened by another user, and one that could be is refused", async () => {
    makeLockFile();
    const r = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", "flock", "-s", lockFile, "true"],
      {
        encoding: "utf8",
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    chmodSync(lockFile, 0o644);
    const err = await withLock("gpt", image(), "/dev/vda", async () => "ran").catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `gpt: ${lockFile}: not a 0600 regular file of uid 0; refusing to use it as the boot state's lock`,
    );
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
    const holder = await otherWriter(makeLockFile(), 0.4);
    const during = await withLock("gpt", file, file, async () => flocksOn(lockFile), 5000);
    holder.kill();
    expect(during).toEqual([`WRITE ${process.pid}`]);
  });

  it("gives up after the wait and names the other holder; the write never runs", async () => {
    const file = image();
    const holder = await otherWriter(makeLockFile(), 5);
    let ran = false;
    const write = async () => {
      ran = true;
    };
    const err = await withLock("gpt", file, file, write, 300).catch((e: Error) => e);
    holder.kill();
    expect(ran).toBe(false);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^gpt: ${file}: bootwarden's lock /run/bootwarden/boot-state.lock is held by another writer after 0.3s \\(held by pid \\d+: flock ${lockFile} sleep 5, for pid ${process.pid}: .+\\)$`,
      ),
    );
  });

  it("a FIFO planted as the target does not hang the open: the lock is taken and the write decides", async () => {
    const fifo = path.join(dir, "disk.img");
    spawnSync("mkfifo", [fifo]);
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(await withLock("gpt", fifo, fifo, async () => "ran", 300)).toBe("ran");
  });

  it("a target that is not there is left to the write to report; nothing is created there", async () => {
    const file = path.join(dir, "missing.img");
    expect(await withLock("grubenv", file, "/boot/grub/grubenv", async () => "ran")).toBe("ran");
    expect(() => statSync(file)).toThrow();
  });
});
