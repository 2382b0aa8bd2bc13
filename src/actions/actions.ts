import type { Clock } from "../base/clock.js";
import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootStateBackend } from "../bootstate/types.js";
import type { ActionEffect, Verdict } from "../core/assessment.js";
import type { SlotKey } from "../core/status.js";
import type { TryCount } from "../core/trial-log.js";
import { confirmMarkGood } from "./confirm-mark.js";
import type { FlagWriter, HookRunner, StatusStore } from "./ports.js";
import { logRepair, markedAt, recordSafely, retryTrial, rollBack } from "./rollback.js";

export interface ActionContext extends SlotKey {
  verdict?: Verdict;
  reason?: string;
  /** How long a failing mark-bad is retried (CLOCK_MONOTONIC ms): until the backstop takes over. */
  retryUntil: number;
  try?: TryCount;
  /** The tries the boot loader still grants the slot. */
  left?: number | null;
}

export interface ActionDeps {
  backend: BootStateBackend;
  flags: FlagWriter;
  hooks: HookRunner;
  store: StatusStore;
  reboot(): Promise<void>;
  log: Logger;
  clock: Clock;
}

/**
 * Carries out one action effect. Returns false when the action did not happen and must not count as done (a
 * rollback whose mark-bad failed): a daemon restarted later tries it again.
 */
export async function runAction(deps: ActionDeps, e: ActionEffect, ctx: ActionContext): Promise<boolean> {
  switch (e.type) {
    case "markGood": {
      const r = await deps.backend.markGood();
      const at = markedAt();
      deps.log.info(
        {
          MESSAGE_ID: MessageId.markedGood,
          BOOTWARDEN_SLOT: ctx.slot,
          BOOTWARDEN_VERDICT: ctx.verdict,
          ...at,
        },
        `slot ${ctx.slot}: ${r.message}`,
      );
      logRepair(deps.log, ctx.slot, r);
      if (r.changed) void confirmMarkGood(deps, ctx);
      // Bookkeeping for `arm`, off the path to the flag.
      void recordSafely(deps.log, "reset the failed-trial count", () => deps.store.resetFailedTrials(ctx));
      return true;
    }
    case "rollback":
      return rollBack(deps, { ...ctx, reason: ctx.reason ?? "", by: "daemon" });
    case "retry":
      return retryTrial(deps, { ...ctx, reason: ctx.reason ?? "", by: "daemon", left: ctx.left ?? null });
    case "flag":
      await deps.flags.write(e.which, e.reason);
      return true;
    case "hooks":
      await deps.hooks.run(e.which, { slot: ctx.slot, verdict: ctx.verdict ?? "", reason: ctx.reason ?? "" });
      return true;
  }
}
