import { sysPath } from "../base/paths.js";
import type { CheckDef, Observation } from "../core/assessment.js";
import type { SystemdApi } from "../systemd/api.js";
import { CommandChecks } from "./commands.js";
import { FailedUnitsWatcher } from "./failed-units.js";
import { FlagWatcher } from "./flags.js";
import { UnitWatcher } from "./units.js";

export interface CheckWatchers {
  /** Re-reads every check (the monitor schedule). */
  refresh(): void;
  /** The verdict is in: command checks still retrying are stopped. */
  verdictReached(unfinished: ReadonlySet<string>): Promise<void>;
  close(): Promise<void>;
}

/** Starts one watcher per kind of check; each turns what it sees into observations of a check id. */
export async function watchChecks(
  defs: readonly CheckDef[],
  systemd: SystemdApi,
  now: () => number,
  onObservation: (id: string, obs: Observation) => void,
  onError: (err: Error) => void,
  environment: string[] = [],
  /** Flags under directories other users can write count all the same (assessment.allowUntrustedFlagPaths). */
  allowUntrustedFlagPaths = false,
): Promise<CheckWatchers> {
  const commands = new CommandChecks(
    systemd,
    defs.filter((d) => d.kind === "command"),
    environment,
  );
  const notStarted = await commands.start();
  for (const [id, obs] of notStarted) onObservation(id, obs);
  const units = defs
    .filter((d) => d.kind === "unit" || (d.kind === "command" && !notStarted.has(d.id)))
    .map((d) => ({ id: d.id, name: d.target, command: d.kind === "command" }));
  const unitWatcher = new UnitWatcher(systemd, units, onObservation, onError);
  await unitWatcher.start();
  const flags = defs
    .filter((d) => d.kind === "flag" || d.kind === "failFlag")
    .map((d) => ({
      id: d.id,
      file: sysPath(d.target),
      path: d.target,
      failure: d.kind === "failFlag",
      checkTrust: !allowUntrustedFlagPaths,
    }));
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
    verdictReached: (unfinished) => commands.stop(unfinished),
    close: () => flagWatcher.close(),
  };
}
