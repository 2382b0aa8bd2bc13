import type { Observation } from "./assessment.js";

/** Raw property values by name, as GetAll or PropertiesChanged carry them (Variants unwrapped). */
export type PropertyBag = Record<string, unknown>;

/** The subset of a unit's properties the checks read. uint64 values arrive as BigInt and are kept so. */
export interface UnitSnapshot {
  name: string;
  path: string;
  loadState: string;
  activeState: string;
  subState: string;
  result: string; // Service.Result; "" for non-services
  type: string; // Service.Type; "" for non-services
  nRestarts: number;
  activeEnterMonotonic: bigint;
  execMainExitMonotonic: bigint;
  execMainStatus: number;
}

/** Properties of org.freedesktop.systemd1.Unit and .Service that the rules below read. */
export const UNIT_PROPERTIES = [
  "LoadState",
  "ActiveState",
  "SubState",
  "ActiveEnterTimestampMonotonic",
] as const;
export const SERVICE_PROPERTIES = [
  "Result",
  "Type",
  "NRestarts",
  "ExecMainExitTimestampMonotonic",
  "ExecMainStatus",
] as const;

/** Every property the checks read, on either interface: what is kept from signals and GetAll, and re-read. */
export const READ_PROPERTIES: ReadonlySet<string> = new Set<string>([
  ...UNIT_PROPERTIES,
  ...SERVICE_PROPERTIES,
]);

/** Job results that say something the unit's own state may not: it will not start. */
export const TELLING_JOB_RESULTS: ReadonlySet<string> = new Set(["dependency", "timeout"]);

export function toSnapshot(name: string, path: string, unit: PropertyBag, svc: PropertyBag): UnitSnapshot {
  const big = (v: unknown) => BigInt((v as bigint | number | undefined) ?? 0);
  return {
    name,
    path,
    loadState: String(unit.LoadState ?? ""),
    activeState: String(unit.ActiveState ?? ""),
    subState: String(unit.SubState ?? ""),
    result: String(svc.Result ?? ""),
    type: String(svc.Type ?? ""),
    nRestarts: Number(svc.NRestarts ?? 0),
    activeEnterMonotonic: big(unit.ActiveEnterTimestampMonotonic),
    execMainExitMonotonic: big(svc.ExecMainExitTimestampMonotonic),
    execMainStatus: Number(svc.ExecMainStatus ?? 0),
  };
}

const usToMs = (us: bigint) => Number(us / 1000n);

/**
 * What a unit's properties say about its check. Any restart during the boot is a crash loop, even if the unit is
 * active again right now: NRestarts counts from the unit's first start in this boot, so no baseline is needed.
 */
export function observeUnit(u: UnitSnapshot, jobResult?: string, failedDependency?: string): Observation {
  switch (u.loadState) {
    case "not-found":
      return { kind: "failed", detail: "unit does not exist" };
    case "masked":
      return { kind: "failed", detail: "unit is masked" };
    case "error":
    case "bad-setting":
      return { kind: "failed", detail: `unit could not be loaded (${u.loadState})` };
  }
  if (u.nRestarts > 0) {
    return { kind: "failed", detail: `restarted ${u.nRestarts} time(s) (${u.activeState}/${u.subState})` };
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
  if (u.activeState === "inactive" && failedDependency !== undefined) {
    return { kind: "failed", detail: `not started: ${failedDependency}, which it requires, failed` };
  }
  if (u.activeState === "inactive" && jobResult !== undefined && TELLING_JOB_RESULTS.has(jobResult)) {
    return { kind: "failed", detail: `start job ended with "${jobResult}"` };
  }
  return { kind: "pending", detail: `${u.activeState} (${u.subState})` };
}

/**
 * What a command check's transient unit says (Type=oneshot, RemainAfterExit=yes, Restart=on-failure when it has an
 * interval): active means it exited 0; failed is final; between attempts systemd holds it in "auto-restart". Restarts
 * are the retries here, not a crash loop.
 */
export function observeCommand(u: UnitSnapshot): Observation {
  if (u.loadState === "not-found") return { kind: "failed", detail: "its transient unit is gone" };
  if (u.activeState === "active")
    return { kind: "up", since: usToMs(u.activeEnterMonotonic), detail: "exited 0" };
  const attempt = u.nRestarts + 1;
  if (u.activeState === "failed") return { kind: "failed", detail: attemptFailure(u, attempt) };
  if (u.subState === "auto-restart")
    return { kind: "pending", detail: `attempt ${attempt} ${attemptFailure(u, attempt, false)}, retrying` };
  if (u.activeState === "activating") return { kind: "pending", detail: `running (attempt ${attempt})` };
  return { kind: "pending", detail: `${u.activeState} (${u.subState})` };
}

function attemptFailure(u: UnitSnapshot, attempt: number, withCount = true): string {
  const what =
    u.result === "timeout"
      ? "timed out"
      : u.result === "signal" || u.result === "core-dump"
        ? `was killed by signal ${u.execMainStatus}`
        : u.result === "exit-code"
          ? `exited with status ${u.execMainStatus}`
          : `failed (${u.result || u.subState})`;
  return withCount && attempt > 1 ? `${what} (attempt ${attempt})` : what;
}
