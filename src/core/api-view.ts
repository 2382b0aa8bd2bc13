import { bootVerdict, type DaemonStatus } from "./status.js";

/**
 * The D-Bus API's read-only properties, from the status the daemon saved (the same source as the metrics and the
 * hooks). Times as systemd gives them: µs, 0 when there is none. Pure.
 */
export interface ApiProperties {
  Phase: string;
  Verdict: string;
  Reason: string;
  BootedSlot: string;
  TrialBoot: boolean;
  /** -1: the boot loader does not count tries (or this is no trial). */
  TriesLeft: number;
  DeadlineUSec: bigint;
  DeadlineMonotonicUSec: bigint;
  /** id, kind, status of each check. */
  Checks: [string, string, string][];
}

export const API_SIGNATURES: Record<keyof ApiProperties, string> = {
  Phase: "s",
  Verdict: "s",
  Reason: "s",
  BootedSlot: "s",
  TrialBoot: "b",
  TriesLeft: "i",
  DeadlineUSec: "t",
  DeadlineMonotonicUSec: "t",
  Checks: "a(sss)",
};

const usec = (ms: number | undefined) => (ms === undefined ? 0n : BigInt(Math.round(ms)) * 1000n);

export function apiProperties(s: DaemonStatus): ApiProperties {
  const v = bootVerdict(s);
  return {
    Phase: s.phase,
    Verdict: v?.verdict ?? "",
    Reason: v?.reason ?? s.error ?? "",
    BootedSlot: s.slot ?? "",
    TrialBoot: s.trialBoot ?? false,
    TriesLeft: s.trialBoot && typeof s.triesLeft === "number" ? s.triesLeft : -1,
    DeadlineUSec: s.trialBoot ? usec(s.deadlineRealtimeMs) : 0n,
    DeadlineMonotonicUSec: s.trialBoot ? usec(s.deadlineMonotonicMs) : 0n,
    Checks: s.trialBoot ? (s.assessment?.checks ?? []).map((c) => [c.def.id, c.def.kind, c.status]) : [],
  };
}

/**
 * `status --json`'s object without the keys whose value is unknown (null): D-Bus has no null, and the output must
 * be the same whether it came through the API or from the files.
 */
export function compact(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(compact);
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = compact(x);
  return out;
}
