import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { BootwardenError, type ErrorDomain } from "../base/errors.js";

export const LOCK_WAIT_MS = 10_000;

/**
 * An exclusive BSD lock (flock) on the disk or image itself, or on the directory of a grubenv, held for one
 * read-modify-write of the boot state. Whole-disk flock is the convention systemd documents for tools that change
 * a partition table (udev backs off while it is held), so cgpt/sgdisk users that follow it are kept out too.
 * Node has no flock(2); util-linux's flock(1) takes it for a helper process and the kernel drops it when that helper
 * exits, which it does when our end of its stdin closes, including when we die. A waiter gives up after `waitMs` and says who
 * holds the lock.
 */
export async function withLock<T>(
  domain: ErrorDomain,
  target: string,
  shown: string,
  fn: () => Promise<T>,
  waitMs = defaultWait(),
): Promise<T> {
  const ready = prepared.get(target);
  let child: ChildProcessWithoutNullStreams;
  if (ready && ready.waitMs === waitMs && ready.child.exitCode === null && ready.child.signalCode === null) {
    prepared.delete(target);
    child = ready.child;
    child.ref();
    for (const st of [child.stdin, child.stdout, child.stderr]) (st as unknown as { ref?(): void }).ref?.();
    child.stdin.write("go\n");
  } else child = spawnLocker(target, waitMs, false);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  const acquired = await new Promise<boolean>((resolve, reject) => {
    child.once("error", (err) =>
      reject(new BootwardenError(domain, "io", `${shown}: cannot lock (flock: ${err.message})`)),
    );
    child.stdout.once("data", () => resolve(true));
    child.once("exit", () => resolve(false));
  });
  if (!acquired) {
    const code = child.exitCode;
    if (code === 75)
      throw new BootwardenError(
        domain,
        "busy",
        `${shown}: another writer holds the lock after ${waitMs / 1000}s (${await lockHolder(target)})`,
      );
    throw new BootwardenError(
      domain,
      "io",
      `${shown}: cannot lock: ${stderr.trim() || `flock exited ${code}`}`,
    );
  }
  try {
    return await fn();
  } finally {
    // Closing its stdin ends `cat` and with it the lock. Not waited for: a later write of ours waits in flock like
    // any other writer would, and the mark's caller (the flag) does not wait for the release.
    child.stdin.end();
    // Kept warm: the next write to the same target finds its helper waiting (the daemon's mark, then perhaps more).
    // (spawning blocks the event loop for a few ms: not before the flag that follows a mark).
    if (ready) setTimeout(() => prepareLock(target, waitMs), 200).unref();
  }
}

function defaultWait(): number {
  return Number(process.env.BOOTWARDEN_LOCK_WAIT_MS) || LOCK_WAIT_MS;
}

/**
 * A shell that opens `target` as fd 3, has flock(1) lock that descriptor (the lock belongs to the open file, so it
 * outlives flock), says "locked" and becomes `cat`, which holds fd 3 until our end of its stdin closes (or we die).
 * `deferred`: it first waits for a line on stdin, so that only flock's fork and exec are left for the write itself.
 */
function spawnLocker(target: string, waitMs: number, deferred: boolean): ChildProcessWithoutNullStreams {
  const script = [
    'exec 3<"$0" || exit 1',
    ...(deferred ? ["read -r go || exit 0"] : []),
    `flock --exclusive --wait ${waitMs / 1000} -E 75 3 || exit $?`,
    "echo locked",
    "exec cat >/dev/null",
  ].join("\n");
  // Loaded when first needed (after READY): node:child_process is a millisecond or more of the daemon's start.
  const { spawn } = process.getBuiltinModule("node:child_process");
  return spawn("sh", ["-c", script, target], { stdio: ["pipe", "pipe", "pipe"] });
}

const prepared = new Map<string, { child: ChildProcessWithoutNullStreams; waitMs: number }>();

/**
 * Starts the lock helper for `target` ahead of time: the daemon does this when a trial boot starts, so that marking
 * the slot does not wait for a process to be spawned. The helper holds nothing until it is used, dies with us (its
 * stdin closes), and never keeps the event loop alive.
 */
export function prepareLock(target: string, waitMs = defaultWait()): void {
  if (prepared.has(target)) return;
  const child = spawnLocker(target, waitMs, true);
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?(): void }).unref?.();
  child.on("error", () => prepared.delete(target));
  child.once("exit", () => {
    if (prepared.get(target)?.child === child) prepared.delete(target);
  });
  prepared.set(target, { child, waitMs });
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
      // Ours is held through flock(1): name the process that asked for it.
      const ppid = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ")[1];
      const ours = taker.startsWith("flock ") || taker === "cat";
      const parent = ours && ppid ? `, for pid ${ppid}: ${await cmd(ppid)}` : "";
      return `held by pid ${pid}: ${taker}${parent}`;
    }
  } catch {
    // /proc not readable here: say what we can
  }
  return "holder unknown";
}
