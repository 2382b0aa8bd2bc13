import cron from "node-cron";

/** After the verdict, re-runs the checks on the configured cron schedule (late failures are reported, never acted on). */
export function startMonitor(schedule: string | undefined, tick: () => void): { stop(): void } | undefined {
  if (!schedule) return undefined;
  return cron.schedule(schedule, tick);
}
