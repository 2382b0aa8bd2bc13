import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootState } from "../bootstate/types.js";
import type { StatusStore } from "./ports.js";

/**
 * A normal boot that follows a failed trial says so, once: from our own record (marked reported afterwards), or
 * else from what the boot loader's state shows.
 */
export async function reportPreviousTrial(
  boot: BootState,
  store: StatusStore,
  log: Logger,
): Promise<{ slot: string; reason: string } | undefined> {
  const last = await store.readLastTrial();
  const ours = last && last.slot !== boot.bootedSlot && !last.reported ? last : undefined;
  const prev = ours ? { slot: ours.slot, reason: `${ours.verdict} (${ours.reason})` } : boot.rolledBackFrom;
  if (!prev) return undefined;
  const failed = `${prev.slot}: ${prev.reason}`;
  // Without our record, the boot loader's view is reported once per boot only (a restart finds the status file).
  log.error(
    {
      MESSAGE_ID: MessageId.previousTrialFailed,
      BOOTWARDEN_SLOT: boot.bootedSlot,
      BOOTWARDEN_FAILED_SLOT: ours?.slot ?? boot.rolledBackFrom?.slot,
    },
    `booted ${boot.bootedSlot} after a failed trial boot of ${failed}`,
  );
  if (ours) await store.writeLastTrial({ ...ours, reported: true });
  return prev;
}
