import type { BootStateBackend } from "../bootstate/types.js";
import type { TrialRecords } from "./trials.js";

/**
 * Marks the booted slot by hand (the CLI, or the API outside a trial's assessment) and says what it did. Idempotent:
 * "already so" is success. A blessing by hand starts the slot's failed-trial count over, as the daemon's does.
 */
export async function markBooted(
  backend: BootStateBackend,
  which: "good" | "bad",
  trials: TrialRecords,
  how = "by hand",
): Promise<string> {
  const boot = await backend.read();
  const r = which === "good" ? await backend.markGood() : await backend.markBad();
  const key = { slot: boot.bootedSlot, id: boot.bootedId };
  if (which === "good") await trials.blessed(key);
  if (r.changed)
    await trials.decided(
      key,
      which === "good" ? "healthy" : "unhealthy",
      `marked ${which} ${how}`,
      "operator",
    );
  return r.message;
}
