import { type Assessment, type DoneKey, NORMAL_BOOT, type Verdict } from "./assessment.js";

/** What the daemon keeps in /run/bootwarden/status.json: enough to resume after a crash and to answer `status`. */
export interface DaemonStatus {
  phase: "normal" | "assessing" | "verdict" | "config-error" | "error";
  slot?: string;
  trialBoot?: boolean;
  updatedAt: string;
  pid: number;
  deadlineMonotonicMs?: number;
  /** The same deadline on the wall clock (ms since the epoch), for the metrics and the API. */
  deadlineRealtimeMs?: number;
  backend?: string;
  /** Boot attempts the boot loader still granted the slot when this boot's assessment started. */
  triesLeft?: number | null;
  assessment?: Assessment;
  /** Actions already carried out in this boot, so a restarted daemon never acts twice. */
  done: DoneKey[];
  error?: string;
  notes: string[];
  /** This boot is the fallback of a failed trial (ours, as last-trial.json said at the start of the boot). */
  rolledBackFrom?: { slot: string; reason: string };
}

/** This boot's verdict, for what reports it (the API, the metrics): a normal boot counts as healthy. */
export function bootVerdict(s: DaemonStatus): { verdict: Verdict; reason: string } | undefined {
  return s.phase === "normal" ? { verdict: "healthy", reason: NORMAL_BOOT } : s.assessment?.verdict;
}

/** The last trial that ended in a rollback, kept in /var/lib/bootwarden across the reboot. */
export interface LastTrial {
  slot: string;
  verdict: string;
  reason: string;
  at: string;
  /** Who rolled it back: the daemon, or the backstop when the daemon had no verdict. */
  by?: "daemon" | "backstop";
  reported?: boolean;
}

/** Which slot a trial record is about: as shown (PARTLABEL=USR-B), and its identity (BootState.bootedId). */
export interface SlotKey {
  slot: string;
  id: string;
}
