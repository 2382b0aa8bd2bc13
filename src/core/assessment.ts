/**
 * The assessment as a pure state machine: (state, event) -> (state, effects). Time comes in with the events
 * (milliseconds on CLOCK_MONOTONIC, the clock systemd stamps units with), so tests drive it with a fake clock.
 */

export type Verdict = "healthy" | "degraded" | "unhealthy";
export type CheckKind = "unit" | "flag" | "failFlag" | "noFailedUnits" | "command";
export type CheckStatus = "pending" | "settling" | "passed" | "failed";

/** How a command check runs: as a transient oneshot unit (its name is the check's target). */
export interface CommandSpec {
  argv: string[];
  /** Each attempt is killed after this many ms. */
  timeout: number;
  /** A failed attempt is retried after this many ms, until the deadline; none: one attempt. */
  interval?: number;
}

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
  action: "rollback" | "report";
  checks: CheckState[];
  verdict?: { verdict: Verdict; reason: string; at: number };
}

export type Event =
  | { type: "observed"; id: string; obs: Observation; now: number }
  | { type: "tick"; now: number };

/** Effects that act on the machine; each is carried out once per boot, recorded under its done-key. */
export type ActionEffect =
  | { type: "markGood" }
  /** Mark the slot bad, record the failed trial, reboot: one sequence, shared with the backstop. */
  | { type: "rollback" }
  | { type: "flag"; which: "healthy" | "unhealthy"; reason: string }
  | { type: "hooks"; which: "green" | "red" };

/** Effects that are only reported. */
export type ReportEffect =
  | { type: "check"; check: CheckState; previous: CheckStatus }
  | { type: "verdict"; verdict: Verdict; reason: string }
  | { type: "lateFailure"; check: CheckState };

export type Effect = ActionEffect | ReportEffect;

/** The record of a carried-out action in status.json; `bootwarden wait` reads "markGood" from it. */
export type DoneKey =
  | "markGood"
  | "rollback"
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
  e.type === "markGood" || e.type === "rollback" || e.type === "flag" || e.type === "hooks";

export function newAssessment(
  slot: string,
  defs: CheckDef[],
  deadline: number,
  settle: number,
  action: Assessment["action"],
): Assessment {
  return {
    slot,
    deadline,
    settle,
    action,
    // A fail-flag holds until its file appears; the others must be seen to hold.
    checks: defs.map((def) =>
      def.kind === "failFlag"
        ? { def, status: "passed", detail: "absent" }
        : { def, status: "pending", detail: "waiting" },
    ),
  };
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

function verdictOf(a: Assessment, now: number): { verdict: Verdict; reason: string } | undefined {
  const critical = a.checks.filter((c) => c.def.critical);
  const wanted = a.checks.filter((c) => !c.def.critical);
  const failed = critical.find((c) => c.status === "failed");
  if (failed) return { verdict: "unhealthy", reason: `${failed.def.id} failed: ${failed.detail}` };
  const notYet = critical.filter((c) => c.status !== "passed");
  const pastDeadline = now >= a.deadline;
  if (notYet.length > 0) {
    if (!pastDeadline) return undefined;
    const shown = notYet.slice(0, 5).map((c) => `${c.def.id} (${c.detail})`);
    if (notYet.length > 5) shown.push(`${notYet.length - 5} more`);
    const names = shown.join(", ");
    return { verdict: "unhealthy", reason: `deadline passed with ${names} not healthy` };
  }
  const wantedBad = wanted.filter((c) => c.status === "failed" || (pastDeadline && c.status !== "passed"));
  const wantedOpen = wanted.some((c) => c.status === "pending" || c.status === "settling");
  if (wantedBad.length > 0 && (!wantedOpen || pastDeadline)) {
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
      if (a.action === "rollback") out.push({ type: "rollback" });
      return out;
    }
  }
}

export function step(a: Assessment, ev: Event): { next: Assessment; effects: Effect[] } {
  const effects: Effect[] = [];
  const checks = a.checks.map((c) => {
    const updated =
      ev.type === "observed" && ev.id === c.def.id
        ? applyObservation(c, ev.obs, ev.now, a.settle)
        : settleCheck(c, ev.now, a.settle);
    if (updated.status !== c.status || updated.detail !== c.detail) {
      effects.push({ type: "check", check: updated, previous: c.status });
      if (a.verdict && updated.status === "failed") effects.push({ type: "lateFailure", check: updated });
    }
    return updated;
  });
  let next: Assessment = { ...a, checks };
  if (!next.verdict) {
    const v = verdictOf(next, ev.now);
    if (v) {
      next = { ...next, verdict: { ...v, at: ev.now } };
      effects.push(...verdictEffects(next, v.verdict, v.reason));
    }
  }
  return { next, effects };
}

/** When the driver must wake the machine up even if nothing is observed: the deadline or a settle time ending. */
export function nextWakeup(a: Assessment): number | undefined {
  const times = a.checks
    .filter((c) => c.status === "settling" && c.upSince !== undefined)
    .map((c) => c.upSince! + a.settle);
  if (!a.verdict) times.push(a.deadline);
  return times.length ? Math.min(...times) : undefined;
}

export function summary(a: Assessment): { up: number; total: number } {
  const critical = a.checks.filter((c) => c.def.critical);
  return { up: critical.filter((c) => c.status === "passed").length, total: critical.length };
}
