import type { Parsed } from "../base/read-json.js";
import type { DaemonStatus, LastTrial } from "./status.js";
import type { TrialRecord } from "./trial-log.js";

/**
 * The shapes of bootwarden's own records, checked when they are read back: a record damaged by hand or by a disk
 * must never reach code that trusts it (`"done": 5` once crashed `wait`). Pure.
 */

export interface SlotHistory {
  /** Failed trials since the slot was last blessed. */
  failures: number;
  /** The slot as people know it (PARTLABEL=USR-B), beside the identity the record is keyed by. */
  slot?: string;
  lastReason?: string;
  lastAt?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const optStr = (v: unknown) => v === undefined || typeof v === "string";
const strs = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const BY = new Set(["daemon", "backstop", "operator"]);
const PHASES = new Set(["normal", "assessing", "verdict", "config-error", "error"]);
const VERDICTS = new Set(["healthy", "degraded", "unhealthy"]);
const STATUSES = new Set(["pending", "settling", "passed", "failed"]);

/** trials.json: failed trials per slot identity. Entries that are not records are dropped and reported. */
export function parseFailures(v: unknown): Parsed<Record<string, SlotHistory>> {
  if (!isObj(v)) return { value: {}, problem: "not a record of failed trials" };
  const out: Record<string, SlotHistory> = {};
  let bad = 0;
  for (const [k, h] of Object.entries(v)) {
    if (isObj(h) && count(h.failures) && optStr(h.slot) && optStr(h.lastReason) && optStr(h.lastAt))
      out[k] = h as unknown as SlotHistory;
    else bad++;
  }
  return bad
    ? { value: out, problem: `${bad} damaged entr${bad === 1 ? "y" : "ies"} dropped` }
    : { value: out };
}

const isTrialRecord = (r: unknown): r is TrialRecord =>
  isObj(r) &&
  typeof r.boot === "string" &&
  typeof r.slot === "string" &&
  typeof r.startedAt === "string" &&
  optStr(r.id) &&
  optStr(r.verdict) &&
  optStr(r.reason) &&
  optStr(r.decidedAt) &&
  (r.try === undefined || count(r.try)) &&
  (r.of === undefined || count(r.of)) &&
  (r.by === undefined || BY.has(r.by as string));

/** history.json: the trial boots, newest last. */
export function parseHistory(v: unknown): Parsed<TrialRecord[]> {
  if (!Array.isArray(v)) return { value: [], problem: "not a list of trial boots" };
  const out = v.filter(isTrialRecord);
  const bad = v.length - out.length;
  return bad
    ? { value: out, problem: `${bad} damaged record${bad === 1 ? "" : "s"} dropped` }
    : { value: out };
}

/** last-trial.json: the last trial that ended in a rollback. */
export function parseLastTrial(v: unknown): Parsed<LastTrial> {
  const ok =
    isObj(v) &&
    typeof v.slot === "string" &&
    typeof v.verdict === "string" &&
    typeof v.reason === "string" &&
    typeof v.at === "string" &&
    (v.by === undefined || BY.has(v.by as string)) &&
    (v.reported === undefined || typeof v.reported === "boolean");
  return ok ? { value: v as unknown as LastTrial } : { problem: "not a record of the last trial" };
}

function isAssessment(a: unknown): boolean {
  if (!isObj(a)) return false;
  const v = a.verdict;
  return (
    typeof a.slot === "string" &&
    Number.isFinite(a.deadline) &&
    Number.isFinite(a.settle) &&
    (a.action === "rollback" || a.action === "retry" || a.action === "report") &&
    (a.try === undefined || (isObj(a.try) && count(a.try.n) && count(a.try.of))) &&
    Array.isArray(a.checks) &&
    a.checks.every(
      (c) =>
        isObj(c) &&
        isObj(c.def) &&
        typeof c.def.id === "string" &&
        typeof c.def.kind === "string" &&
        typeof c.def.target === "string" &&
        typeof c.def.critical === "boolean" &&
        STATUSES.has(c.status as string) &&
        typeof c.detail === "string" &&
        (c.upSince === undefined || Number.isFinite(c.upSince)),
    ) &&
    (v === undefined ||
      (isObj(v) &&
        VERDICTS.has(v.verdict as string) &&
        typeof v.reason === "string" &&
        Number.isFinite(v.at)))
  );
}

/** status.json: the daemon's state in this boot. The whole record or nothing: a restart must not half-trust it. */
export function parseStatus(v: unknown): Parsed<DaemonStatus> {
  const ok =
    isObj(v) &&
    PHASES.has(v.phase as string) &&
    typeof v.updatedAt === "string" &&
    Number.isSafeInteger(v.pid) &&
    strs(v.done) &&
    strs(v.notes) &&
    optStr(v.slot) &&
    optStr(v.error) &&
    (v.trialBoot === undefined || typeof v.trialBoot === "boolean") &&
    (v.deadlineMonotonicMs === undefined || Number.isFinite(v.deadlineMonotonicMs)) &&
    (v.deadlineRealtimeMs === undefined || Number.isFinite(v.deadlineRealtimeMs)) &&
    optStr(v.backend) &&
    (v.triesLeft === undefined || v.triesLeft === null || count(v.triesLeft)) &&
    (v.rolledBackFrom === undefined ||
      (isObj(v.rolledBackFrom) &&
        typeof v.rolledBackFrom.slot === "string" &&
        typeof v.rolledBackFrom.reason === "string")) &&
    (v.assessment === undefined || isAssessment(v.assessment));
  return ok ? { value: v as unknown as DaemonStatus } : { problem: "not a status record of bootwarden's" };
}

/** deployment-rollback.json: the previous deployment was made the default after the last failed trial. */
export function parseDeploymentRollback(v: unknown): Parsed<{ slot: string; how: string; at: string }> {
  return isObj(v) && typeof v.slot === "string" && typeof v.how === "string" && typeof v.at === "string"
    ? { value: v as { slot: string; how: string; at: string } }
    : { problem: "not a record of a deployment rollback" };
}

export interface Counters {
  rollbacks: number;
  blessings: number;
}

/** counters.json: trials rolled back and blessed on this machine. */
export function parseCounters(v: unknown): Parsed<Counters> {
  return isObj(v) && count(v.rollbacks) && count(v.blessings)
    ? { value: { rollbacks: v.rollbacks as number, blessings: v.blessings as number } }
    : { problem: "not a record of trial counts" };
}
