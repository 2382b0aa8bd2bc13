import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootState } from "../bootstate/types.js";
import { rollbackNotice } from "../core/motd.js";
import type { Motd, StatusStore } from "./ports.js";
import { reportPreviousTrial } from "./previous-trial.js";

/**
 * A normal boot says so, and, the first time in this boot, whether it follows a failed trial (journal and login
 * notice). Returns that trial, if it does: if this boot fails too, no slot is left. For the daemon, and for its start
 * with an invalid configuration (`why`).
 */
export async function announceNormalBoot(
  boot: BootState,
  deps: { store: StatusStore; motd: Motd; log: Logger },
  first: boolean,
  why = "not a trial boot, nothing to assess",
): Promise<{ slot: string; reason: string } | undefined> {
  let failed: { slot: string; reason: string } | undefined;
  if (first) {
    failed = await reportPreviousTrial(boot, deps.store, deps.log);
    await deps.motd
      .show(failed && rollbackNotice(failed.slot, failed.reason))
      .catch((err: Error) => deps.log.warn(`could not write the login notice: ${err.message}`));
  }
  deps.log.info(
    { MESSAGE_ID: MessageId.normalBoot, BOOTWARDEN_SLOT: boot.bootedSlot, BOOTWARDEN_STATE: boot.state },
    `normal boot of ${boot.bootedSlot} (${boot.state}): ${why}`,
  );
  return failed;
}

/** The fallback of a failed trial fails too: no slot is left, and nothing rolls back and forth. Said once. */
export function fallbackFailsToo(log: Logger, slot: string, check: string): void {
  log.error(
    { MESSAGE_ID: MessageId.fallbackFailed, BOOTWARDEN_SLOT: slot },
    `both slots failed: ${slot}, the fallback of a failed trial, fails ${check} too; not rolling back and forth`,
  );
}
