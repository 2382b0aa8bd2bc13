import type { Assessment } from "./assessment.js";
import { tryText } from "./trial-log.js";

/**
 * The login notice: what an operator who logs in should know before touching the machine. Whole minutes, so the
 * file changes once a minute at most; nothing once a trial is blessed healthy.
 */
export function trialNotice(a: Assessment, now: number): string | undefined {
  const v = a.verdict;
  const t = tryText(a.try);
  const trial = `trial boot of ${a.slot}${t ? ` (${t})` : ""}`;
  if (!v) {
    const left = Math.max(0, Math.ceil((a.deadline - now) / 60_000));
    return `bootwarden: ${trial}: verdict pending, ${left}m left`;
  }
  switch (v.verdict) {
    case "healthy":
      return undefined;
    case "degraded":
      return `bootwarden: trial boot of ${a.slot} blessed, degraded: ${v.reason}`;
    case "unhealthy":
      switch (a.action) {
        case "rollback":
          return `bootwarden: ${trial} failed, rolling back: ${v.reason}`;
        case "retry":
          return `bootwarden: ${trial} failed, rebooting to try again: ${v.reason}`;
        case "report":
          return `bootwarden: ${trial} failed (report only, not rolled back): ${v.reason}`;
      }
  }
}

export const rollbackNotice = (failed: string, reason: string): string =>
  `bootwarden: rolled back from ${failed}: ${reason}`;
