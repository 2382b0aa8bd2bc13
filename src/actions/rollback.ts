import { describeError, isCode } from "../base/errors.js";
import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootStateBackend, MarkResult } from "../bootstate/types.js";
import type { StatusStore } from "../daemon/ports.js";

/**
 * When the mark was on disk (its last sync done), on CLOCK_MONOTONIC like systemd's unit timestamps: journald's own
 * timestamp is when the record arrived, which a busy boot delays.
 */
export const markedAt = () => ({ BOOTWARDEN_MARKED_MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n) });

/** A write that first rebuilt a damaged copy of the boot state says so under its own MESSAGE_ID. */
export function logRepair(log: Logger, slot: string, r: MarkResult): void {
  if (r.repaired)
    log.warn(
      { MESSAGE_ID: MessageId.tableRepaired, BOOTWARDEN_SLOT: slot },
      `repaired before writing: ${r.repaired}`,
    );
}

export interface RollbackDeps {
  backend: BootStateBackend;
  store: StatusStore;
  reboot(): Promise<void>;
  log: Logger;
}

export interface RollbackContext {
  slot: string;
  reason: string;
  by: "daemon" | "backstop";
}

/**
 * The one rollback sequence, for the daemon and the backstop: mark the booted slot bad, record the failed trial (so
 * the next boot reports it), then reboot. If the slot cannot be marked bad there is no reboot: the boot loader would
 * only choose the same slot again. Every step is idempotent, so a sequence cut short is simply run again.
 * Returns whether the reboot was requested.
 */
export async function rollBack(deps: RollbackDeps, ctx: RollbackContext): Promise<boolean> {
  const fields = { BOOTWARDEN_SLOT: ctx.slot, BOOTWARDEN_VERDICT: "unhealthy" };
  const by = ctx.by === "backstop" ? "backstop: " : "";
  try {
    const r = await deps.backend.markBad();
    deps.log.warn(
      { MESSAGE_ID: MessageId.markedBad, ...fields, ...markedAt() },
      `${by}slot ${ctx.slot}: ${r.message}`,
    );
    logRepair(deps.log, ctx.slot, r);
  } catch (err) {
    deps.log.error(
      { MESSAGE_ID: MessageId.rollbackFailed, ...fields },
      `${by}could not mark ${ctx.slot} bad (${describeError(err)}); not rebooting`,
    );
    // No slot to fall back to: say so loudly, once, rather than leaving the operator to guess from a failed write.
    if (isCode(err, "refused"))
      deps.log.error(
        { MESSAGE_ID: MessageId.slotExhausted, ...fields },
        `${by}no slot is left to fall back to from ${ctx.slot}: the machine stays on it and needs an operator`,
      );
    return false;
  }
  await deps.store.writeLastTrial({
    slot: ctx.slot,
    verdict: "unhealthy",
    reason: ctx.reason,
    at: new Date().toISOString(),
    by: ctx.by,
  });
  // The daemon recorded its verdict when it reached it; this is the backstop's (and a no-op for the daemon).
  await deps.store.trialDecided(ctx.slot, "unhealthy", ctx.reason, ctx.by).catch(() => undefined);
  const failures = await deps.store.countFailedTrial(ctx.slot, ctx.reason);
  deps.log.warn(
    { MESSAGE_ID: MessageId.rebootRequested, ...fields },
    `${by}rebooting to fall back from ${ctx.slot} (failed trial ${failures} since it was last blessed): ${ctx.reason}`,
  );
  await deps.reboot();
  return true;
}
