import path from "node:path";
import { writeAtomic } from "../base/atomic-write.js";
import { RUN_DIR, STATE_DIR, sysPath } from "../base/paths.js";
import { readJson } from "../base/read-json.js";
import type { DaemonStatus, LastTrial } from "../core/status.js";
import type { StatusStore } from "../daemon/ports.js";
import { TrialHistory } from "./trial-history.js";
import { TrialLog } from "./trial-log.js";

/**
 * status.json in the runtime directory (this boot only) and last-trial.json in the state directory (across the
 * reboot). Both carry reasons, so they are 0640 in a 0700 state directory.
 */
export class FileStatusStore implements StatusStore {
  constructor(
    readonly runDir = sysPath(RUN_DIR),
    readonly stateDir = sysPath(STATE_DIR),
  ) {}

  get statusFile(): string {
    return path.join(this.runDir, "status.json");
  }

  read(): Promise<DaemonStatus | undefined> {
    return readJson<DaemonStatus>(this.statusFile);
  }

  write(s: DaemonStatus): Promise<void> {
    return writeAtomic(this.statusFile, `${JSON.stringify(s, null, 1)}\n`, { mode: 0o640 });
  }

  readLastTrial(): Promise<LastTrial | undefined> {
    return readJson<LastTrial>(path.join(this.stateDir, "last-trial.json"));
  }

  async countFailedTrial(slot: string, reason: string): Promise<number> {
    return (await this.history().failed(slot, reason)).failures;
  }

  resetFailedTrials(slot: string): Promise<void> {
    return this.history().blessed(slot);
  }

  trialStarted(slot: string): Promise<void> {
    return new TrialLog(path.join(this.stateDir, "history.json")).started(slot);
  }

  trialDecided(slot: string, verdict: string, reason: string, by: "daemon" | "backstop"): Promise<void> {
    return new TrialLog(path.join(this.stateDir, "history.json")).decided(slot, verdict, reason, by);
  }

  private history(): TrialHistory {
    return new TrialHistory(path.join(this.stateDir, "trials.json"));
  }

  writeLastTrial(t: LastTrial): Promise<void> {
    return writeAtomic(path.join(this.stateDir, "last-trial.json"), `${JSON.stringify(t)}\n`, {
      mode: 0o640,
      durable: true,
      dirMode: 0o700,
    });
  }
}
