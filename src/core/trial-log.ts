/** One trial boot as `bootwarden history` shows it. */
export interface TrialRecord {
  /** The kernel's boot ID: one trial per boot. */
  boot: string;
  slot: string;
  /** The slot's identity (PARTUUID=..., an entry id), which names stay with; absent in records of older versions. */
  id?: string;
  startedAt: string;
  verdict?: string;
  reason?: string;
  /** Who decided: the daemon's assessment, the backstop (no verdict by the deadline), or an operator's mark. */
  by?: "daemon" | "backstop" | "operator";
  decidedAt?: string;
}

export const MAX_TRIAL_RECORDS = 64;

/** A trial of this boot starts: recorded once (a restarted daemon finds it). */
export function started(
  log: TrialRecord[],
  boot: string,
  slot: string,
  id: string,
  at: string,
): TrialRecord[] {
  if (log.some((r) => r.boot === boot && r.slot === slot)) return log;
  return [...log, { boot, slot, id, startedAt: at }].slice(-MAX_TRIAL_RECORDS);
}

/**
 * A verdict on this boot's trial fills in its record. Recording the same actor again changes nothing (a restarted
 * daemon); a different actor after a decision (an operator's mark after a report-only verdict) gets its own line.
 */
export function decided(
  log: TrialRecord[],
  d: Required<Pick<TrialRecord, "boot" | "slot" | "verdict" | "reason" | "by" | "decidedAt">>,
): TrialRecord[] {
  const i = log.findLastIndex((r) => r.boot === d.boot && r.slot === d.slot);
  const r = i >= 0 ? log[i] : undefined;
  if (r?.verdict && r.by === d.by) return log;
  if (r && !r.verdict) return log.map((r, j) => (j === i ? { ...r, ...d } : r));
  return [...log, { ...d, startedAt: r?.startedAt ?? d.decidedAt }].slice(-MAX_TRIAL_RECORDS);
}
