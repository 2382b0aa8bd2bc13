import type { Clock } from "../base/clock.js";
import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootState, BootStateBackend } from "../bootstate/types.js";
import { formatDuration } from "../config/duration.js";
import type { Assessment } from "../core/assessment.js";
import { trialNotice } from "../core/motd.js";
import type { SlotKey } from "../core/status.js";
import { tryText } from "../core/trial-log.js";
import type { Motd, StatusStore } from "./ports.js";
import { reportPreviousTrial } from "./previous-trial.js";

/**
 * A trial boot's assessment starts (or resumes after a restart): said under its MESSAGE_ID, with its bookkeeping
 * off the start path (READY waits for none of it): the history, the login notice, and loading what the mark's lock
 * needs (the native addon) while the watchers wait for their first answers: a verdict that comes right after READY
 * must not wait for it.
 */
export function announceTrial(
  a: Assessment,
  boot: BootState,
  key: SlotKey,
  how: { resumed: boolean; checks: number },
  deps: { store: StatusStore; motd: Motd; backend: BootStateBackend; log: Logger; clock: Clock },
): void {
  const { log, clock } = deps;
  const warn = (what: string) => (err: Error) => log.warn(`could not ${what}: ${err.message}`);
  void deps.store.trialStarted(key, a.try).catch(warn("record the trial in the history"));
  // A trial can follow a failed one too (RAUC's scheme makes every boot a trial, the fallback's included).
  if (!how.resumed)
    void reportPreviousTrial(boot, deps.store, log).catch(warn("report the previous failed trial"));
  void deps.motd.show(trialNotice(a, clock.now())).catch(warn("write the login notice"));
  setImmediate(() => void deps.backend.prepareWrite?.().catch(warn("prepare the boot state's lock")));
  log.warn(
    {
      MESSAGE_ID: MessageId.trialBoot,
      BOOTWARDEN_SLOT: boot.bootedSlot,
      BOOTWARDEN_TRIES_LEFT: boot.triesLeft ?? "",
      BOOTWARDEN_TRY: a.try?.n,
      BOOTWARDEN_DEADLINE_MONOTONIC_MS: a.deadline,
    },
    `${how.resumed ? "resuming" : "starting"} assessment of trial boot of ${boot.bootedSlot}` +
      `${tryText(a.try) ? ` (${tryText(a.try)}, unhealthy: ${a.action})` : ""}: ` +
      `${how.checks} checks, deadline in ${formatDuration(a.deadline - clock.now())}`,
  );
}
