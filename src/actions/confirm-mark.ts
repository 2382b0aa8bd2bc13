import type { Clock } from "../base/clock.js";
import { describeError } from "../base/errors.js";
import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootStateBackend } from "../bootstate/types.js";
import type { StartPlan } from "../core/start.js";
import type { SlotKey } from "../core/status.js";

/** How long after a mark good the boot state is read back, and how many times a mark undone is made again. */
export const CONFIRM_AFTER_MS = 2000;
export const CONFIRM_ROUNDS = 3;
/**
 * A daemon restarted this soon after its verdict reads the mark good back itself: the one before may have died
 * before it did (Restart= brings it back in about a second). Later, a slot found in its trial state again is more
 * likely someone's new trial (an update staged) than an undone mark, and is left alone.
 */
export const READ_BACK_ON_RESUME_WITHIN_MS = 10_000;

/** How long until a resumed daemon reads back the mark good its predecessor made, or undefined: none to read. */
export function readBackOnResume(plan: StartPlan, now: number): number | undefined {
  const v = plan.assessment.verdict;
  if (plan.mode !== "resume" || v?.verdict !== "healthy" || !plan.status.done.includes("markGood"))
    return undefined;
  const since = now - v.at;
  return since < READ_BACK_ON_RESUME_WITHIN_MS ? Math.max(0, CONFIRM_AFTER_MS - since) : undefined;
}

/**
 * Boot loader tools that take no lock (grub-editenv and grub2-set-bootflag rewrite grubenv, cgpt the GPT) and that
 * read the state just before the mark and write it back just after it undo the mark without a trace: the next boot
 * would be a trial again and count down to a rollback of a good slot. So the state is read back a little later, and a
 * slot found in its trial state again is marked good again. Any other state (an operator's mark bad, a slot no longer
 * booted) is someone's own decision and stays. Never throws: the verdict is already carried out.
 */
export async function confirmMarkGood(
  deps: { backend: BootStateBackend; log: Logger; clock: Clock },
  key: SlotKey,
  firstWaitMs = CONFIRM_AFTER_MS,
): Promise<void> {
  const { backend, log } = deps;
  const wait = (ms: number) => new Promise<void>((r) => deps.clock.after(ms, r));
  try {
    for (let round = 1; ; round++) {
      await wait(round === 1 ? firstWaitMs : CONFIRM_AFTER_MS);
      const boot = await backend.read();
      if (!boot.trialBoot || boot.state !== "indeterminate" || boot.bootedId !== key.id) return;
      const fields = { MESSAGE_ID: MessageId.markUndone, BOOTWARDEN_SLOT: key.slot };
      if (round > CONFIRM_ROUNDS) {
        log.error(
          fields,
          `slot ${key.slot}: the mark good was undone in ${boot.source} ${CONFIRM_ROUNDS} times over; giving up (the next boot is a trial again)`,
        );
        return;
      }
      const r = await backend.markGood();
      log.warn(
        fields,
        `slot ${key.slot}: another writer of ${boot.source} undid the mark good (the slot was in its trial state ` +
          `again ${CONFIRM_AFTER_MS / 1000} s later); ${r.message}`,
      );
    }
  } catch (err) {
    log.warn(`slot ${key.slot}: could not read back the mark good: ${describeError(err)}`);
  }
}
