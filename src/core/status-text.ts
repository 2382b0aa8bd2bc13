import { formatDuration } from "../config/duration.js";
import type { Assessment } from "./assessment.js";
import type { DaemonStatus } from "./status.js";
import { summary } from "./tally.js";

/** The one-line STATUS= systemd shows in `systemctl status bootwarden`. */
export function statusText(phase: DaemonStatus["phase"], a: Assessment, now: number): string {
  const s = summary(a);
  if (phase === "normal")
    return `normal boot of ${a.slot}: nothing to assess; watching ${a.checks.length} checks`;
  if (a.verdict) return `trial boot of ${a.slot}: ${a.verdict.verdict}: ${a.verdict.reason}`;
  return `trial boot of ${a.slot}: ${s.up}/${s.total} critical checks up, ${formatDuration(a.deadline - now)} left`;
}
