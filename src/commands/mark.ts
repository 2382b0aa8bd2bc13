import { markBooted } from "../actions/mark-booted.js";
import { TrialRecords } from "../actions/trials.js";
import { BootwardenError } from "../base/errors.js";
import { createBackend } from "../bootstate/registry.js";
import { loadConfig } from "../config/load.js";
import { printable } from "../core/printable.js";

const records = () =>
  new TrialRecords(undefined, (problem) =>
    process.stderr.write(`bootwarden: ${printable(problem)}; it is replaced at the next write\n`),
  );

/** `bootwarden mark-good` / `mark-bad`: the booted slot, by hand. */
export async function mark(which: "good" | "bad", configPath: string | undefined): Promise<number> {
  const { config } = await loadConfig(configPath);
  process.stdout.write(`${await markBooted(createBackend(config.bootState), which, records())}\n`);
  return 0;
}

export function parseTries(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,3}$/.test(v)) throw new BootwardenError("cli", "usage", `--tries ${v}: must be a whole number`);
  return Number(v);
}

/**
 * `bootwarden arm --slot SLOT [--tries N]`: what an updater does after writing the new image. The reboot-loop guard
 * asks by the slot's identity, so PARTLABEL= and PARTUUID= (or `b` and `b.conf`) are one slot.
 */
export async function arm(
  configPath: string | undefined,
  slot: string | undefined,
  tries: string | undefined,
  force: boolean,
): Promise<number> {
  const { config } = await loadConfig(configPath);
  const backend = createBackend(config.bootState);
  const id = await backend.identify(slot);
  const h = (await records().failures())[id];
  const max = config.assessment.maxFailedTrials;
  if (!force && h && h.failures >= max)
    throw new BootwardenError(
      "state",
      "refused",
      `refusing to arm ${slot ?? id}: its trial failed ${h.failures} times since it was last blessed (last: ${h.lastReason ?? "?"}); --force to arm anyway`,
    );
  const r = await backend.arm(slot, parseTries(tries), { force });
  process.stdout.write(`${r.message}\n`);
  return 0;
}
