import type { UnitSnapshot } from "../systemd/bus.js";
import type { Observation } from "./assessment.js";

const usToMs = (us: bigint) => Number(us / 1000n);

/**
 * Pure: what a unit's properties say about its check. `baselineRestarts` is NRestarts when the daemon first saw the
 * unit; any climb after that is a crash loop, even if the unit is active again right now.
 */
export function observeUnit(u: UnitSnapshot, baselineRestarts: number, jobResult?: string): Observation {
  switch (u.loadState) {
    case "not-found":
      return { kind: "failed", detail: "unit does not exist" };
    case "masked":
      return { kind: "failed", detail: "unit is masked" };
    case "error":
    case "bad-setting":
      return { kind: "failed", detail: `unit could not be loaded (${u.loadState})` };
  }
  if (u.nRestarts > baselineRestarts) {
    return {
      kind: "failed",
      detail: `restarted ${u.nRestarts - baselineRestarts} time(s) (${u.activeState}/${u.subState})`,
    };
  }
  if (u.activeState === "failed") return { kind: "failed", detail: `failed (${u.result || u.subState})` };
  if (u.activeState === "active" || u.activeState === "reloading") {
    return { kind: "up", since: usToMs(u.activeEnterMonotonic), detail: `active (${u.subState})` };
  }
  // A oneshot without RemainAfterExit goes back to inactive after a successful run.
  if (
    u.type === "oneshot" &&
    u.activeState === "inactive" &&
    u.result === "success" &&
    u.execMainExitMonotonic > 0n
  ) {
    return u.execMainStatus === 0
      ? { kind: "up", since: usToMs(u.execMainExitMonotonic), detail: "ran successfully" }
      : { kind: "failed", detail: `exited with status ${u.execMainStatus}` };
  }
  if (u.activeState === "inactive" && (jobResult === "dependency" || jobResult === "timeout")) {
    return { kind: "failed", detail: `start job ended with "${jobResult}"` };
  }
  return { kind: "pending", detail: `${u.activeState} (${u.subState})` };
}
