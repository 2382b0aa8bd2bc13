import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeAtomic } from "../base/atomic-write.js";
import { STATE_DIR, sysPath } from "../base/paths.js";
import { readJson } from "../base/read-json.js";
import { decided, started, type TrialRecord } from "../core/trial-log.js";

/** This boot's ID, from the kernel; "" when it cannot be read (then records are keyed by slot alone). */
export async function bootId(file = sysPath("/proc/sys/kernel/random/boot_id")): Promise<string> {
  return (await readFile(file, "utf8").catch(() => "")).trim().replaceAll("-", "");
}

/** /var/lib/bootwarden/history.json: the trials this machine has seen, newest last, bounded. */
export class TrialLog {
  constructor(readonly file = sysPath(path.join(STATE_DIR, "history.json"))) {}

  async read(): Promise<TrialRecord[]> {
    const v = await readJson<unknown>(this.file);
    return Array.isArray(v) ? (v as TrialRecord[]) : [];
  }

  async started(slot: string): Promise<void> {
    const log = await this.read();
    const next = started(log, await bootId(), slot, new Date().toISOString());
    if (next !== log) await this.save(next);
  }

  async decided(
    slot: string,
    verdict: string,
    reason: string,
    by: NonNullable<TrialRecord["by"]>,
  ): Promise<void> {
    const log = await this.read();
    const d = { boot: await bootId(), slot, verdict, reason, by, decidedAt: new Date().toISOString() };
    const next = decided(log, d);
    if (next !== log) await this.save(next);
  }

  private save(log: TrialRecord[]): Promise<void> {
    return writeAtomic(this.file, `${JSON.stringify(log, null, 1)}\n`, {
      mode: 0o640,
      durable: true,
      dirMode: 0o700,
    });
  }
}
