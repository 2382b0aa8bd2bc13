/**
 * The one deadline rule, shared by the daemon and the backstop: the deadline counts from the start of userspace in
 * this boot (systemd's UserspaceTimestampMonotonic, CLOCK_MONOTONIC), not from the daemon's start, so a restarted
 * daemon and the backstop compute the same instant.
 */
export function trialDeadline(userspaceMonotonicUs: bigint, deadlineMs: number): number {
  return Number(userspaceMonotonicUs / 1000n) + deadlineMs;
}

/** The backstop acts this long after the deadline: the daemon acts at the deadline itself. */
export const BACKSTOP_GRACE_MS = 5000;
