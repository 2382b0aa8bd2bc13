/**
 * After the verdict, re-runs the checks on the configured cron schedule (late failures are reported, never acted on).
 * node-cron is loaded only when a schedule is configured: it is not on the start path otherwise.
 */
export async function startMonitor(
  schedule: string | undefined,
  tick: () => void,
): Promise<{ stop(): void } | undefined> {
  if (!schedule) return undefined;
  const { default: cron } = await import("node-cron");
  return cron.schedule(schedule, tick);
}
