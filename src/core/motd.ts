import type { Assessment } from "./assessment.js";

/**
 * The login notice: what an operator who logs in should know before touching the machine. Whole minutes, so the
 * file changes once a minute at most; nothing once a trial is blessed healthy.
 */
export function trialNotice(a: Assessment, now: number): string | undefined {
  const v = a.verdict;
  if (!v) {
    const left = Math.max(0, Math.ceil((a.deadline - now) / 60_000));
    return `bootwarden: trial boot of ${a.slot}: verdict pending, ${left}m left`;
  }
  switch (v.verdict) {
    case "healthy":
      return undefined;
    case "degraded":
      return `bootwarden: trial boot of ${a.slot} blessed, degraded: ${v.reason}`;
    case "unhealthy":
      return a.action === "rollback"
        ? `bootwarden: trial boot of ${a.slot} failed, rolling back: ${v.reason}`
        : `bootwarden: trial boot of ${a.slot} failed (report only, not rolled back): ${v.reason}`;
  }
}

export const rollbackNotice = (failed: string, reason: string): string =>
  `bootwarden: rolled back from ${failed}: ${reason}`;
