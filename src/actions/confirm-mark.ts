import type { Clock } from "../base/clock.js";
import { describeError } from "../base/errors.js";
import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootStateBackend } from "../bootstate/types.js";
import type { SlotKey } from "../core/status.js";

/** How long after a mark good the boot state is read back, and how many times a mark undone is made again. */
export const CONFIRM_AFTER_MS = 2000;
export const CONFIRM_ROUNDS = 3;

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
): Promise<void> {
  const { backend, log } = deps;
  const wait = () => new Promise<void>((r) => deps.clock.after(CONFIRM_AFTER_MS, r));
  try {
    for (let round = 1; ; round++) {
      await wait();
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
