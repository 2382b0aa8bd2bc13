import { TrialHistory } from "../actions/trial-history.js";
import { TrialLog } from "../actions/trial-log.js";
import { BootwardenError } from "../base/errors.js";
import { createBackend } from "../bootstate/registry.js";
import { loadConfig } from "../config/load.js";

/** `bootwarden mark-good` / `mark-bad`: the booted slot, by hand. Idempotent: "already so" is success. */
export async function mark(which: "good" | "bad", configPath: string | undefined): Promise<number> {
  const { config } = await loadConfig(configPath);
  const backend = createBackend(config.bootState);
  const boot = await backend.read();
  const r = which === "good" ? await backend.markGood() : await backend.markBad();
  process.stdout.write(`${r.message}\n`);
  if (r.changed)
    await new TrialLog().decided(
      boot.bootedSlot,
      which === "good" ? "healthy" : "unhealthy",
      `marked ${which} by hand`,
      "operator",
    );
  return 0;
}

export function parseTries(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,3}$/.test(v)) throw new BootwardenError("cli", "usage", `--tries ${v}: must be a whole number`);
  return Number(v);
}

/** `bootwarden arm --slot SLOT [--tries N]`: what an updater does after writing the new image. */
export async function arm(
  configPath: string | undefined,
  slot: string | undefined,
  tries: string | undefined,
  force: boolean,
): Promise<number> {
  const { config } = await loadConfig(configPath);
  const history = await new TrialHistory().read();
  const max = config.assessment.maxFailedTrials;
  for (const s of slot ? [slot] : ["default", "active"]) {
    const h = history[s];
    if (!force && h && h.failures >= max)
      throw new BootwardenError(
        "state",
        "refused",
        `refusing to arm ${s}: its trial failed ${h.failures} times since it was last blessed (last: ${h.lastReason}); --force to arm anyway`,
      );
  }
  const r = await createBackend(config.bootState).arm(slot, parseTries(tries), { force });
  process.stdout.write(`${r.message}\n`);
  return 0;
}
