import type { Assessment, CheckState, CheckStatus } from "./assessment.js";

/** The assessment's bookkeeping that makes a step cost the same with 1 or 1000 checks. Pure. */

/** How many checks are in each status, critical and wanted apart: a verdict without a pass over every check. */
export interface Tally {
  critical: Record<CheckStatus, number>;
  wanted: Record<CheckStatus, number>;
}

const noCounts = (): Record<CheckStatus, number> => ({ pending: 0, settling: 0, passed: 0, failed: 0 });

export function tallyOf(checks: readonly CheckState[]): Tally {
  const t: Tally = { critical: noCounts(), wanted: noCounts() };
  for (const c of checks) t[c.def.critical ? "critical" : "wanted"][c.status]++;
  return t;
}

export function moved(t: Tally, c: CheckState, to: CheckStatus): Tally {
  const side = c.def.critical ? "critical" : "wanted";
  const counts = { ...t[side] };
  counts[c.status]--;
  counts[to]++;
  return { ...t, [side]: counts };
}

/** Checks in all statuses of one side; those settling, both sides. */
export const total = (c: Record<CheckStatus, number>) => c.pending + c.settling + c.passed + c.failed;
export const settling = (t: Tally) => t.critical.settling + t.wanted.settling;

/** Check id -> position, shared by every copy of a checks array (a step never moves a check). */
export const positions = new WeakMap<readonly CheckState[], ReadonlyMap<string, number>>();
export function positionOf(checks: readonly CheckState[], id: string): number {
  let index = positions.get(checks);
  if (!index) {
    const first = new Map<string, number>();
    for (const [i, c] of checks.entries()) if (!first.has(c.def.id)) first.set(c.def.id, i);
    index = first;
    positions.set(checks, index);
  }
  return index.get(id) ?? -1;
}

/** Critical checks up, of all critical checks: what STATUS= and the monitor say. */
export function summary(a: Assessment): { up: number; total: number } {
  const t = a.tally ?? tallyOf(a.checks);
  return { up: t.critical.passed, total: total(t.critical) };
}
