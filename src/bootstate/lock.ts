import { closeSync, constants as fsc, openSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { BootwardenError, describeError, type ErrorDomain, errnoText } from "../base/errors.js";
import { type NativeAddon, nativeAddon } from "../native/addon.js";

export const LOCK_WAIT_MS = 10_000;
/** How often a waiter tries again while another writer holds the lock. */
const RETRY_MS = 20;

/**
 * An exclusive BSD lock (flock) on the disk or image itself, or on the directory of a grubenv or of BLS entries,
 * held for one read-modify-write of the boot state. Whole-disk flock is the convention systemd documents for tools
 * that change a partition table (udev backs off while it is held), so cgpt/sgdisk users that follow it are kept
 * out too. The lock belongs to a descriptor of ours (flock(2) through the native addon: no helper process on the
 * mark's path), and the kernel drops it when the descriptor closes, including when we die. A waiter tries every
 * RETRY_MS without blocking the event loop, gives up after `waitMs` and says who holds the lock.
 */
export async function withLock<T>(
  domain: ErrorDomain,
  target: string,
  shown: string,
  fn: () => Promise<T>,
  waitMs = defaultWait(),
): Promise<T> {
  let native: NativeAddon;
  let fd: number;
  try {
    native = nativeAddon();
  } catch (err) {
    throw new BootwardenError(domain, "io", `${shown}: cannot lock: ${describeError(err)}`);
  }
  try {
    // O_NONBLOCK: a FIFO planted where the disk should be must not hang the open (the write refuses it by type);
    // libuv adds O_CLOEXEC, so no child inherits the lock.
    fd = openSync(target, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (err) {
    throw new BootwardenError(domain, "io", `${shown}: cannot lock (open: ${errnoText(err)})`);
  }
  try {
    // process.hrtime, not performance.now(): Node loads the whole perf_hooks module at the first touch of the
    // `performance` global, 1.5 ms on the mark's path (bench trace).
    const until = monotonicMs() + waitMs;
    for (;;) {
      let taken: boolean;
      try {
        taken = native.tryLock(fd);
      } catch (err) {
        throw new BootwardenError(domain, "io", `${shown}: cannot lock (${describeError(err)})`);
      }
      if (taken) break;
      const left = until - monotonicMs();
      if (left <= 0)
        throw new BootwardenError(
          domain,
          "busy",
          `${shown}: another writer holds the lock after ${waitMs / 1000}s (${await lockHolder(target)})`,
        );
      await new Promise((r) => setTimeout(r, Math.min(RETRY_MS, left)));
    }
    return await fn();
  } finally {
    closeSync(fd);
  }
}

const monotonicMs = () => Number(process.hrtime.bigint() / 1000n) / 1000;

function defaultWait(): number {
  return Number(process.env.BOOTWARDEN_LOCK_WAIT_MS) || LOCK_WAIT_MS;
}

/**
 * Loads what a write's lock needs ahead of it (the daemon does so when a trial boot starts), so that the mark does
 * not wait for the addon to be read and linked. A failure here is the write's to report.
 */
export function prepareLock(): void {
  try {
    nativeAddon();
  } catch {
    // said by withLock, with the boot state's name
  }
}

/** Who holds a flock on `target`, from /proc/locks: the locking process's parent is the bootwarden that waits on it. */
export async function lockHolder(target: string): Promise<string> {
  try {
    const st = await stat(target);
    const major = Math.floor(st.dev / 256) & 0xfff;
    const minor = (st.dev & 0xff) | ((st.dev >> 12) & 0xfff00);
    const want = `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}:${st.ino}`;
    for (const line of (await readFile("/proc/locks", "utf8")).split("\n")) {
      const f = line.trim().split(/\s+/);
      // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
      if (f[1] !== "FLOCK" || f[5]?.toLowerCase() !== want) continue;
      const pid = f[4]!;
      const cmd = async (p: string) =>
        (await readFile(`/proc/${p}/cmdline`, "utf8")).split("\0").join(" ").trim();
      const taker = await cmd(pid);
      // Taken through flock(1) (a script, or an operator's shell): name the process that asked for it.
      const ppid = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ")[1];
      const parent = taker.startsWith("flock ") && ppid ? `, for pid ${ppid}: ${await cmd(ppid)}` : "";
      return `held by pid ${pid}: ${taker}${parent}`;
    }
  } catch {
    // /proc not readable here: say what we can
  }
  return "holder unknown";
}
