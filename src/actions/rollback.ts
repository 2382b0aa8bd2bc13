import type { Clock } from "../base/clock.js";
import { describeError, isCode } from "../base/errors.js";
import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootStateBackend, MarkResult } from "../bootstate/types.js";
import type { SlotKey } from "../core/status.js";
import { type TryCount, tryText } from "../core/trial-log.js";
import type { StatusStore } from "./ports.js";

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

/** Bookkeeping that must never stop what it accompanies: a failure is logged, never thrown. */
export async function recordSafely<T>(
  log: Logger,
  what: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    log.warn(`could not ${what}: ${describeError(err)}`);
    return undefined;
  }
}

export interface RollbackDeps {
  backend: BootStateBackend;
  store: StatusStore;
  reboot(): Promise<void>;
  log: Logger;
  clock: Clock;
}

export interface RollbackContext extends SlotKey {
  reason: string;
  by: "daemon" | "backstop";
  /** A mark-bad that fails is retried until this CLOCK_MONOTONIC ms (the backstop's turn); none: until it works. */
  retryUntil?: number;
  /** Which try of the trial this boot was, when known. */
  try?: TryCount;
}

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * The one rollback sequence, for the daemon and the backstop: mark the booted slot bad, record the failed trial (so
 * the next boot reports it), then reboot. A mark that fails (a lock held too long, an I/O error) is tried again with
 * a growing pause. Only a slot with nothing to fall back to is never rebooted: the boot loader would choose it
 * again. Every step is idempotent, so a sequence cut short is simply run again; the records are bookkeeping, and
 * nothing they do can stop the reboot. Returns whether the reboot was requested.
 */
export async function rollBack(deps: RollbackDeps, ctx: RollbackContext): Promise<boolean> {
  const log = deps.log.child({ BOOTWARDEN_SLOT: ctx.slot, BOOTWARDEN_VERDICT: "unhealthy" });
  const by = ctx.by === "backstop" ? "backstop: " : "";
  for (let pause = FIRST_RETRY_MS; ; pause = Math.min(pause * 2, MAX_RETRY_MS)) {
    try {
      const r = await deps.backend.markBad();
      log.warn({ MESSAGE_ID: MessageId.markedBad, ...markedAt() }, `${by}slot ${ctx.slot}: ${r.message}`);
      logRepair(log, ctx.slot, r);
      break;
    } catch (err) {
      if (isCode(err, "refused")) {
        log.error(
          { MESSAGE_ID: MessageId.slotExhausted },
          `${by}no slot is left to fall back to from ${ctx.slot} (${describeError(err)}): not rebooting, the machine stays on it and needs an operator`,
        );
        return false;
      }
      if (ctx.retryUntil !== undefined && deps.clock.now() + pause > ctx.retryUntil) {
        log.error(
          { MESSAGE_ID: MessageId.rollbackFailed },
          `${by}could not mark ${ctx.slot} bad (${describeError(err)}); the backstop tries again after the deadline`,
        );
        return false;
      }
      log.warn(
        { MESSAGE_ID: MessageId.markBadRetry },
        `${by}could not mark ${ctx.slot} bad (${describeError(err)}); trying again in ${pause / 1000}s`,
      );
      await new Promise<void>((resolve) => deps.clock.after(pause, resolve));
    }
  }
  const at = new Date().toISOString();
  await recordSafely(log, "record the rolled-back trial", () =>
    deps.store.writeLastTrial({ slot: ctx.slot, verdict: "unhealthy", reason: ctx.reason, at, by: ctx.by }),
  );
  // The daemon recorded its verdict when it reached it; this is the backstop's (and a no-op for the daemon).
  await recordSafely(log, "record the verdict in the history", () =>
    deps.store.trialDecided(ctx, "unhealthy", ctx.reason, ctx.by),
  );
  const failures = await recordSafely(log, "count the failed trial", () =>
    deps.store.countFailedTrial(ctx, ctx.reason),
  );
  const next = await fallbackOf(deps.backend);
  log.warn(
    { MESSAGE_ID: MessageId.rebootRequested },
    `${by}rebooting to fall back from ${ctx.slot}${next ? ` to ${next}` : ""}${failures ? ` (failed trial ${failures} since it was last blessed)` : ""}: ${ctx.reason}`,
  );
  if (next === ctx.slot)
    log.error(
      { MESSAGE_ID: MessageId.fallbackIsFailed },
      `${by}the boot loader's own rule starts ${next} again after it was marked bad (a loader.conf default glob?): the machine may not fall back`,
    );
  await deps.reboot();
  return true;
}

/** Where the boot loader goes next by its own rule on the state just written, for the record; nothing when unknown. */
async function fallbackOf(backend: RollbackDeps["backend"]): Promise<string | undefined> {
  return backend.read({ nextBoot: true }).then(
    (s) => s.nextBoot ?? undefined,
    () => undefined,
  );
}

/**
 * `action: retry` with tries left: reboot into the same trial, unmarked, and let the boot loader spend one of its
 * tries; it falls back by itself once they are spent, and the last try's unhealthy verdict is a rollback (planStart).
 * The trial is not over, so nothing is counted as failed.
 */
export async function retryTrial(
  deps: Pick<RollbackDeps, "reboot" | "log">,
  ctx: RollbackContext & { left: number | null },
): Promise<boolean> {
  const by = ctx.by === "backstop" ? "backstop: " : "";
  const t = tryText(ctx.try) ? ` (${tryText(ctx.try)})` : "";
  deps.log.warn(
    {
      MESSAGE_ID: MessageId.trialRetry,
      BOOTWARDEN_SLOT: ctx.slot,
      BOOTWARDEN_VERDICT: "unhealthy",
      BOOTWARDEN_TRY: ctx.try?.n,
      BOOTWARDEN_TRIES_LEFT: ctx.left ?? undefined,
    },
    `${by}rebooting into the trial of ${ctx.slot} again${t}, ${ctx.left ?? "some"} ${ctx.left === 1 ? "try" : "tries"} left: ${ctx.reason}`,
  );
  await deps.reboot();
  return true;
}
