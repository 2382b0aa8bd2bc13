import { sysPath } from "../base/paths.js";
import type { CheckDef, Observation } from "../core/assessment.js";
import type { SystemdApi } from "../systemd/api.js";
import { FailedUnitsWatcher } from "./failed-units.js";
import { FlagWatcher } from "./flags.js";
import { UnitWatcher } from "./units.js";

export interface CheckWatchers {
  /** Re-reads every check (the monitor schedule). */
  refresh(): void;
  close(): Promise<void>;
}

/** Starts one watcher per kind of check; each turns what it sees into observations of a check id. */
export async function watchChecks(
  defs: readonly CheckDef[],
  systemd: SystemdApi,
  now: () => number,
  onObservation: (id: string, obs: Observation) => void,
  onError: (err: Error) => void,
): Promise<CheckWatchers> {
  const units = defs.filter((d) => d.kind === "unit").map((d) => ({ id: d.id, name: d.target }));
  const unitWatcher = new UnitWatcher(systemd, units, onObservation, onError);
  await unitWatcher.start();
  const flags = defs
    .filter((d) => d.kind === "flag" || d.kind === "failFlag")
    .map((d) => ({ id: d.id, file: sysPath(d.target), failure: d.kind === "failFlag" }));
  const flagWatcher = new FlagWatcher(flags, onObservation, now);
  await flagWatcher.start();
  const failed = defs.find((d) => d.kind === "noFailedUnits");
  const failedWatcher = failed
    ? new FailedUnitsWatcher(systemd, (obs) => onObservation(failed.id, obs), now, onError)
    : undefined;
  await failedWatcher?.start();
  return {
    refresh() {
      unitWatcher.refreshAll();
      void flagWatcher.recheck();
      void failedWatcher?.check().catch(onError);
    },
    close: () => flagWatcher.close(),
  };
}
