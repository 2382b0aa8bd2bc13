import { closeSync, openSync, writeSync } from "node:fs";
import { errnoText } from "./errors.js";

/** The daemon's autogroup's nice value: its weight is 9.3 times a default group's. */
export const AUTOGROUP_NICE = -10;

/**
 * Gives the daemon's scheduling group a higher weight, so that the verdict and the mark get a CPU in a busy boot.
 * Where the cpu controller gives the services no weights of their own (cgroup v1 without it, cgroup v2 where no unit
 * enables it), the kernel shares the CPU between autogroups, and systemd makes each service its own session, so its
 * own autogroup: a thousand units exiting at once are a thousand groups, each weighing as much as the daemon.
 * `Nice=` in the unit only ranks the daemon's threads among themselves. Lowering an autogroup's nice needs
 * CAP_SYS_NICE (the unit grants it) or an RLIMIT_NICE that allows it. Where the cpu controller is enabled,
 * autogroups do not apply and this changes nothing.
 * Returns why it could not be done; nothing when it was done, or when the kernel has no autogroups (no file).
 */
export function raiseAutogroup(file: string, nice = AUTOGROUP_NICE): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r+"); // never created: only the kernel's file counts
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return `${file}: ${errnoText(err)}`;
  }
  try {
    writeSync(fd, `${nice}\n`);
    return undefined;
  } catch (err) {
    return `${file}: ${errnoText(err)}`;
  } finally {
    closeSync(fd);
  }
}
