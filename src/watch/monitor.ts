import type { Logger } from "../base/log.js";
import type { Assessment } from "../core/assessment.js";
import { summary } from "../core/tally.js";

/**
 * After the verdict, re-reads every check on the configured cron schedule and logs how many hold (late failures are
 * reported, never acted on). node-cron is loaded only when a schedule is configured: it is not on the start path
 * otherwise.
 */
export async function startMonitor(
  schedule: string | undefined,
  watchers: { refresh(): void },
  assessment: () => Assessment,
  log: Logger,
): Promise<{ stop(): void } | undefined> {
  if (!schedule) return undefined;
  const { default: cron } = await import("node-cron");
  return cron.schedule(schedule, () => {
    watchers.refresh();
    const a = assessment();
    const s = summary(a);
    log.info({ BOOTWARDEN_SLOT: a.slot }, `periodic check: ${s.up}/${s.total} critical checks holding`);
  });
}
