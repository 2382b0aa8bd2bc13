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
  /** Which try of the trial this boot was, when the boot loader counts them. */
  try?: number;
  of?: number;
}

/** "try 2 of 3": this boot's place among the tries the boot loader grants a trial. */
export interface TryCount {
  n: number;
  of: number;
}

/** "try 2 of 3"; nothing for a trial of one try. */
export const tryText = (t: TryCount | undefined): string => (t && t.of > 1 ? `try ${t.n} of ${t.of}` : "");

/**
 * Which try this trial boot is. A boot loader that records the tries done (systemd-boot's +LEFT-DONE) says so
 * itself; for the others (gptprio's tries, greenboot's boot_counter) only the tries left are known, so a trial
 * continues the previous boot's count when that boot tried the same slot and the figures add up (it was retried, or
 * hung and was reset; either way the boot loader spent a try); anything else (an updater re-armed it) starts at 1.
 */
export function tryOf(
  left: number | null,
  done: number | null | undefined,
  id: string,
  log: readonly TrialRecord[],
  boot: string,
): TryCount | undefined {
  if (left === null) return undefined;
  if (done) return { n: done, of: done + left };
  const mine = log.findLast((r) => r.boot === boot && r.id === id);
  if (mine?.try && mine.of) return { n: mine.try, of: mine.of };
  const prev = log.findLast((r) => r.boot !== boot);
  if (prev?.id === id && prev.try && prev.of && prev.try + 1 + left === prev.of)
    return { n: prev.try + 1, of: prev.of };
  return { n: 1, of: left + 1 };
}

export const MAX_TRIAL_RECORDS = 64;

/** A trial of this boot starts: recorded once (a restarted daemon finds it). */
export function started(
  log: TrialRecord[],
  boot: string,
  slot: string,
  id: string,
  at: string,
  t?: TryCount,
): TrialRecord[] {
  if (log.some((r) => r.boot === boot && r.slot === slot)) return log;
  return [...log, { boot, slot, id, startedAt: at, ...(t ? { try: t.n, of: t.of } : {}) }].slice(
    -MAX_TRIAL_RECORDS,
  );
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
