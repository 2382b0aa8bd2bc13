/**
 * The assessment as a pure state machine: (state, event) -> (state, effects). Time comes in with the events
 * (milliseconds on CLOCK_MONOTONIC, the clock systemd stamps units with), so tests drive it with a fake clock.
 */

import type { CommandSpec } from "./commands.js";
import { moved, positionOf, positions, settling, type Tally, tallyOf, total } from "./tally.js";
import type { TryCount } from "./trial-log.js";

export { type Tally, tallyOf };

export type Verdict = "healthy" | "degraded" | "unhealthy";
export type CheckKind = "unit" | "flag" | "failFlag" | "noFailedUnits" | "command";
export type CheckStatus = "pending" | "settling" | "passed" | "failed";

export const NORMAL_BOOT = "normal boot"; // planStart's reason for a normal boot: no verdict to speak of

export interface CheckDef {
  id: string; // "unit:sshd.service", "flag:/run/app/ready", "command:/etc/greenboot/check/required.d/x.sh", ...
  kind: CheckKind;
  /** The unit, flag path, or (for a command) the transient unit it runs as. */
  target: string;
  command?: CommandSpec;
  /** Critical checks decide the verdict; wanted ones only degrade it. */
  critical: boolean;
}

/** What a watcher saw. "up" is not yet "passed": a unit must stay up for the settle time. */
export type Observation =
  | { kind: "pending"; detail: string }
  | { kind: "up"; since: number; detail: string }
  | { kind: "failed"; detail: string };

export interface CheckState {
  def: CheckDef;
  status: CheckStatus;
  detail: string;
  upSince?: number;
}

export interface Assessment {
  slot: string;
  deadline: number; // monotonic ms
  settle: number; // ms
  /** What an unhealthy verdict does (`assessment.action`; retry only while tries are left), on which try. */
  action: "rollback" | "retry" | "report";
  try?: TryCount;
  checks: CheckState[];
  /** Derived from `checks`; recomputed when absent (an assessment read back from the status file). */
  tally?: Tally;
  verdict?: { verdict: Verdict; reason: string; at: number };
}

export type Event =
  | { type: "observed"; id: string; obs: Observation; now: number }
  | { type: "tick"; now: number }
  /** An operator's verdict (the API's MarkGood/MarkBad) before the assessment's own; nothing once there is one. */
  | { type: "decided"; verdict: Verdict; reason: string; now: number };

/** Effects that act on the machine; each is carried out once per boot, recorded under its done-key. */
export type ActionEffect =
  | { type: "markGood" }
  /** Mark the slot bad, record the failed trial, reboot: one sequence, shared with the backstop. */
  | { type: "rollback" }
  /** Reboot into the same trial, unmarked: the boot loader spends a try (and falls back when none is left). */
  | { type: "retry" }
  | { type: "flag"; which: "healthy" | "unhealthy"; reason: string }
  | { type: "hooks"; which: "green" | "red" };

/** Effects that are only reported. */
export type ReportEffect =
  | { type: "check"; check: CheckState; previous: CheckStatus }
  | { type: "verdict"; verdict: Verdict; reason: string }
  | { type: "lateFailure"; check: CheckState; normalBoot: boolean }; // after a trial's verdict, or on a normal boot

export type Effect = ActionEffect | ReportEffect;

/** The record of a carried-out action in status.json; `bootwarden wait` reads "markGood" from it. */
export type DoneKey =
  | "markGood"
  | "rollback"
  | "retry"
  | `flag:${"healthy" | "unhealthy"}`
  | `hooks:${"green" | "red"}`;

export function doneKey(e: ActionEffect): DoneKey {
  switch (e.type) {
    case "flag":
      return `flag:${e.which}`;
    case "hooks":
      return `hooks:${e.which}`;
    default:
      return e.type;
  }
}

export const isAction = (e: Effect): e is ActionEffect =>
  e.type === "markGood" ||
  e.type === "rollback" ||
  e.type === "retry" ||
  e.type === "flag" ||
  e.type === "hooks";

export function newAssessment(
  slot: string,
  defs: CheckDef[],
  deadline: number,
  settle: number,
  action: Assessment["action"],
): Assessment {
  // A fail-flag holds until its file appears; the others must be seen to hold.
  const checks: CheckState[] = defs.map((def) =>
    def.kind === "failFlag"
      ? { def, status: "passed", detail: "absent" }
      : { def, status: "pending", detail: "waiting" },
  );
  return { slot, deadline, settle, action, checks, tally: tallyOf(checks) };
}

function settleCheck(c: CheckState, now: number, settle: number): CheckState {
  if (c.status !== "settling" || c.upSince === undefined) return c;
  return now - c.upSince >= settle ? { ...c, status: "passed" } : c;
}

function applyObservation(c: CheckState, obs: Observation, now: number, settle: number): CheckState {
  // A failure is final for the assessment: a unit that crashed once is not trusted because it came back.
  if (c.status === "failed") return c;
  switch (obs.kind) {
    case "failed":
      return { def: c.def, status: "failed", detail: obs.detail };
    case "pending":
      return { def: c.def, status: "pending", detail: obs.detail };
    case "up": {
      if (c.status === "passed") return { ...c, detail: obs.detail };
      const upSince = c.status === "settling" ? (c.upSince ?? obs.since) : obs.since;
      return settleCheck({ def: c.def, status: "settling", detail: obs.detail, upSince }, now, settle);
    }
  }
}

/** From the tally alone while no verdict is near; the checks are walked only to word a verdict's reason. */
function verdictOf(a: Assessment, t: Tally, now: number): { verdict: Verdict; reason: string } | undefined {
  if (t.critical.failed > 0) {
    const failed = a.checks.find((c) => c.def.critical && c.status === "failed")!;
    return { verdict: "unhealthy", reason: `${failed.def.id} failed: ${failed.detail}` };
  }
  const pastDeadline = now >= a.deadline;
  if (t.critical.passed < total(t.critical)) {
    if (!pastDeadline) return undefined;
    const notYet = a.checks.filter((c) => c.def.critical && c.status !== "passed");
    const shown = notYet.slice(0, 5).map((c) => `${c.def.id} (${c.detail})`);
    if (notYet.length > 5) shown.push(`${notYet.length - 5} more`);
    const names = shown.join(", ");
    return { verdict: "unhealthy", reason: `deadline passed with ${names} not healthy` };
  }
  const wantedOpen = t.wanted.pending + t.wanted.settling > 0;
  const anyWantedBad = t.wanted.failed > 0 || (pastDeadline && wantedOpen);
  if (anyWantedBad && (!wantedOpen || pastDeadline)) {
    const wantedBad = a.checks.filter(
      (c) => !c.def.critical && (c.status === "failed" || (pastDeadline && c.status !== "passed")),
    );
    return { verdict: "degraded", reason: wantedBad.map((c) => `${c.def.id}: ${c.detail}`).join(", ") };
  }
  if (wantedOpen && !pastDeadline) return undefined;
  return { verdict: "healthy", reason: "all critical checks passed" };
}

export function verdictEffects(a: Assessment, verdict: Verdict, reason: string): Effect[] {
  switch (verdict) {
    case "healthy":
    case "degraded":
      return [
        { type: "verdict", verdict, reason },
        { type: "markGood" },
        { type: "flag", which: "healthy", reason },
        { type: "hooks", which: "green" },
      ];
    case "unhealthy": {
      const out: Effect[] = [
        { type: "verdict", verdict, reason },
        { type: "flag", which: "unhealthy", reason },
        { type: "hooks", which: "red" },
      ];
      if (a.action !== "report") out.push({ type: a.action });
      return out;
    }
  }
}

/**
 * O(1) per observation while no check is settling: a boot with a thousand critical units sends thousands of
 * observations in a burst, and a pass over every check for each of them was most of the daemon's CPU.
 */
export function step(a: Assessment, ev: Event): { next: Assessment; effects: Effect[] } {
  if (ev.type === "decided") {
    const next = a.verdict ? a : { ...a, verdict: { verdict: ev.verdict, reason: ev.reason, at: ev.now } };
    return { next, effects: a.verdict ? [] : verdictEffects(next, ev.verdict, ev.reason) };
  }
  const effects: Effect[] = [];
  let checks = a.checks;
  let tally = a.tally ?? tallyOf(a.checks);
  const update = (i: number, updated: CheckState) => {
    const c = checks[i]!;
    if (updated === c) return;
    if (checks === a.checks) {
      checks = a.checks.slice();
      const index = positions.get(a.checks);
      if (index) positions.set(checks, index);
    }
    checks[i] = updated;
    if (updated.status !== c.status) tally = moved(tally, c, updated.status);
    if (updated.status !== c.status || updated.detail !== c.detail) {
      effects.push({ type: "check", check: updated, previous: c.status });
      if (a.verdict && updated.status === "failed")
        effects.push({ type: "lateFailure", check: updated, normalBoot: a.verdict.reason === NORMAL_BOOT });
    }
  };
  const observed = ev.type === "observed" ? positionOf(a.checks, ev.id) : -1;
  const apply = (i: number) =>
    i === observed && ev.type === "observed"
      ? applyObservation(checks[i]!, ev.obs, ev.now, a.settle)
      : settleCheck(checks[i]!, ev.now, a.settle);
  // Only a settling check can change with time alone.
  if (settling(tally) > 0) for (let i = 0; i < checks.length; i++) update(i, apply(i));
  else if (observed >= 0) update(observed, apply(observed));
  let next: Assessment = checks === a.checks && tally === a.tally ? a : { ...a, checks, tally };
  if (!next.verdict) {
    const v = verdictOf(next, tally, ev.now);
    if (v) {
      next = { ...next, verdict: { ...v, at: ev.now } };
      effects.push(...verdictEffects(next, v.verdict, v.reason));
    }
  }
  return { next, effects };
}

/** When the driver must wake the machine up even if nothing is observed: the deadline or a settle time ending. */
export function nextWakeup(a: Assessment): number | undefined {
  let at = a.verdict ? Number.POSITIVE_INFINITY : a.deadline;
  if (settling(a.tally ?? tallyOf(a.checks)) > 0)
    for (const c of a.checks)
      if (c.status === "settling" && c.upSince !== undefined) at = Math.min(at, c.upSince + a.settle);
  return Number.isFinite(at) ? at : undefined;
}
