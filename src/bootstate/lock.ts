import { closeSync, constants as fsc, fstatSync, mkdirSync, openSync, statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { BootwardenError, describeError, type ErrorDomain, errnoText, isCode } from "../base/errors.js";
import { RUN_DIR, sysPath } from "../base/paths.js";
import { type NativeAddon, nativeAddon } from "../native/addon.js";

export const LOCK_WAIT_MS = 10_000;

/**
 * A read outside the lock that finds the boot state corrupt may have overlapped a writer's rewrite (GPT: backup,
 * then primary; a single U-Boot copy: in place): it is read again through `locked` (under the lock), where no write
 * is half done, before it is called corrupt. Where the lock cannot be had (not root), the first answer stands.
 */
export async function readSettled<T>(
  read: () => Promise<T>,
  locked: (read: () => Promise<T>) => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!isCode(err, "corrupt")) throw err;
    return locked(read).catch((again: unknown) => {
      throw isCode(again, "corrupt") ? again : err;
    });
  }
}
/** How often a waiter tries again while another writer holds the lock. */
const RETRY_MS = 20;
/** bootwarden's own lock: one per machine, as there is one boot state. */
export const LOCK_FILE = path.join(RUN_DIR, "boot-state.lock");

/**
 * Held for one read-modify-write of the boot state. Two exclusive flocks, in this order:
 * - bootwarden's own lock file, 0600 in root's /run/bootwarden: only root can open it, so no other user can hold it.
 *   A lock on the disk image, the grubenv's directory or the ESP would do as well for our own writers, but any user
 *   who can read them (an image is often 0644, /boot/grub 0755) can take a shared flock there and block a rollback.
 * - on a block device, the device itself too: whole-disk flock is what systemd documents for tools that change a
 *   partition table (udev backs off while it is held), and only root and the disk group can open one.
 * The locks belong to descriptors of ours (no helper process), and the kernel drops them when we die. A waiter tries
 * every RETRY_MS without blocking the event loop, gives up after `waitMs` and says who holds the lock; the rollback
 * retries a write that gave up (actions/rollback.ts).
 */
export async function withLock<T>(
  domain: ErrorDomain,
  target: string,
  shown: string,
  fn: () => Promise<T>,
  waitMs = defaultWait(),
): Promise<T> {
  let native: NativeAddon;
  try {
    native = nativeAddon();
  } catch (err) {
    throw new BootwardenError(domain, "io", `${shown}: cannot lock: ${describeError(err)}`);
  }
  const until = monotonicMs() + waitMs;
  const own = openOwnLock(domain, shown);
  try {
    await take(
      native,
      own,
      sysPath(LOCK_FILE),
      domain,
      `${shown}: bootwarden's lock ${LOCK_FILE}`,
      until,
      waitMs,
    );
    const dev = openIfBlockDevice(domain, target, shown);
    try {
      if (dev !== undefined)
        await take(native, dev, target, domain, `${shown}: the device's lock`, until, waitMs);
      return await fn();
    } finally {
      if (dev !== undefined) closeSync(dev);
    }
  } finally {
    closeSync(own);
  }
}

/**
 * The lock file, created on first use; one that another user could open (a mode other than 0600, not ours) is
 * refused, since only root can create files in /run/bootwarden that would not be.
 */
function openOwnLock(domain: ErrorDomain, shown: string): number {
  const file = sysPath(LOCK_FILE);
  let fd: number;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    // O_NONBLOCK and O_NOFOLLOW: nothing planted here may hang the open or lead elsewhere; libuv adds O_CLOEXEC.
    fd = openSync(file, fsc.O_RDONLY | fsc.O_CREAT | fsc.O_NOFOLLOW | fsc.O_NONBLOCK | fsc.O_NOCTTY, 0o600);
  } catch (err) {
    throw new BootwardenError(domain, "io", `${shown}: cannot lock (open ${file}: ${errnoText(err)})`);
  }
  const st = fstatSync(fd);
  const uid = process.geteuid?.() ?? 0;
  if (!st.isFile() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    closeSync(fd);
    throw new BootwardenError(
      domain,
      "unsafe",
      `${file}: not a 0600 regular file of uid ${uid}; refusing to use it as the boot state's lock`,
    );
  }
  return fd;
}

/**
 * Synchronous, as the table's own reads and writes are (gpt/disk.ts): an asynchronous stat is a round trip through
 * libuv's thread pool, 3 to 12 ms of a busy boot's mark (bench: busy boot, verdict -> marked).
 */
function openIfBlockDevice(domain: ErrorDomain, target: string, shown: string) {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(target);
  } catch {
    return undefined; // not there: the write itself says so, naming the file
  }
  if (!st.isBlockDevice()) return undefined;
  try {
    return openSync(target, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (err) {
    throw new BootwardenError(domain, "io", `${shown}: cannot lock (open: ${errnoText(err)})`);
  }
}

async function take(
  native: NativeAddon,
  fd: number,
  file: string,
  domain: ErrorDomain,
  shown: string,
  until: number,
  waitMs: number,
): Promise<void> {
  for (;;) {
    let taken: boolean;
    try {
      taken = native.tryLock(fd);
    } catch (err) {
      throw new BootwardenError(domain, "io", `${shown}: cannot take it (${describeError(err)})`);
    }
    if (taken) return;
    // process.hrtime, not performance.now(): Node loads the whole perf_hooks module at the first touch of the
    // `performance` global, 1.5 ms on the mark's path (bench trace; test/tools/mark-path.test.ts).
    const left = until - monotonicMs();
    if (left <= 0)
      throw new BootwardenError(
        domain,
        "busy",
        `${shown} is held by another writer after ${waitMs / 1000}s (${await lockHolder(file)})`,
      );
    await new Promise((r) => setTimeout(r, Math.min(RETRY_MS, left)));
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

/** Who holds a flock on `target`, from /proc/locks. */
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
