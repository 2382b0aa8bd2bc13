import { spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { BootwardenError, type ErrorDomain } from "../base/errors.js";

export const LOCK_WAIT_MS = 10_000;

/**
 * An exclusive BSD lock (flock) on the disk or image itself, or on the directory of a grubenv, held for one
 * read-modify-write of the boot state. Whole-disk flock is the convention systemd documents for tools that change
 * a partition table (udev backs off while it is held), so cgpt/sgdisk users that follow it are kept out too.
 * Node has no flock(2); util-linux's flock(1) holds it for us and the kernel drops it when that child exits, which
 * it does when our end of its stdin closes, including when we die. A waiter gives up after `waitMs` and says who
 * holds the lock.
 */
export async function withLock<T>(
  domain: ErrorDomain,
  target: string,
  shown: string,
  fn: () => Promise<T>,
  waitMs = Number(process.env.BOOTWARDEN_LOCK_WAIT_MS) || LOCK_WAIT_MS,
): Promise<T> {
  const child = spawn(
    "flock",
    [
      "--exclusive",
      "--wait",
      String(waitMs / 1000),
      "-E",
      "75",
      target,
      "sh",
      "-c",
      "echo locked; exec cat >/dev/null",
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
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
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.stdin.end();
    await exited;
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
      // Ours is held through flock(1): name the process that asked for it.
      const ppid = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ")[1];
      const parent = taker.startsWith("flock ") && ppid ? `, for pid ${ppid}: ${await cmd(ppid)}` : "";
      return `held by pid ${pid}: ${taker}${parent}`;
    }
  } catch {
    // /proc not readable here: say what we can
  }
  return "holder unknown";
}
