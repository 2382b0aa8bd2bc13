import path from "node:path";
import { writeAtomic } from "../base/atomic-write.js";
import { RUN_DIR, STATE_DIR, sysPath } from "../base/paths.js";
import { readRecord } from "../base/read-json.js";
import { parseStatus } from "../core/records.js";
import type { DaemonStatus, LastTrial, SlotKey } from "../core/status.js";
import type { TryCount } from "../core/trial-log.js";
import type { StatusStore } from "./ports.js";
import { TrialRecords } from "./trials.js";

/**
 * status.json in the runtime directory (this boot only), and the trial records in the state directory (across the
 * reboot, trials.ts). Both carry reasons, so they are 0640, the state directory 0700. A damaged file is reported
 * through `onDamaged` (once per file) and read as absent.
 */
export class FileStatusStore implements StatusStore {
  private readonly trials: TrialRecords;
  private statusSaid = false;

  constructor(
    readonly runDir = sysPath(RUN_DIR),
    readonly stateDir = sysPath(STATE_DIR),
    private readonly onDamaged: (problem: string) => void = () => undefined,
  ) {
    this.trials = new TrialRecords(stateDir, onDamaged);
  }

  get statusFile(): string {
    return path.join(this.runDir, "status.json");
  }

  /** The status, or undefined when it is missing or damaged (`problem` says which, for the CLI). */
  async readChecked(): Promise<{ status?: DaemonStatus; problem?: string }> {
    const r = await readRecord(this.statusFile, parseStatus);
    return { status: r.value, problem: r.problem };
  }

  async read(): Promise<DaemonStatus | undefined> {
    const r = await this.readChecked();
    if (r.problem && !this.statusSaid) {
      this.statusSaid = true;
      this.onDamaged(r.problem);
    }
    return r.status;
  }

  write(s: DaemonStatus): Promise<void> {
    return writeAtomic(this.statusFile, `${JSON.stringify(s, null, 1)}\n`, { mode: 0o640 });
  }

  readLastTrial(): Promise<LastTrial | undefined> {
    return this.trials.lastTrial();
  }

  writeLastTrial(t: LastTrial): Promise<void> {
    return this.trials.writeLastTrial(t);
  }

  countFailedTrial(k: SlotKey, reason: string): Promise<number> {
    return this.trials.failed(k, reason);
  }

  resetFailedTrials(k: SlotKey): Promise<void> {
    return this.trials.blessed(k);
  }

  trialStarted(k: SlotKey, t?: TryCount): Promise<void> {
    return this.trials.started(k, t);
  }

  trialTry(k: SlotKey, left: number | null, done?: number | null): Promise<TryCount | undefined> {
    return this.trials.tryOf(k, left, done);
  }

  trialDecided(k: SlotKey, verdict: string, reason: string, by: "daemon" | "backstop"): Promise<void> {
    return this.trials.decided(k, verdict, reason, by);
  }
}
