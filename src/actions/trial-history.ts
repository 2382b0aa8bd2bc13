import path from "node:path";
import { writeAtomic } from "../base/atomic-write.js";
import { STATE_DIR, sysPath } from "../base/paths.js";
import { readJson } from "../base/read-json.js";

export interface SlotHistory {
  /** Failed trials since the slot was last blessed. */
  failures: number;
  lastReason?: string;
  lastAt?: string;
}

const MAX_SLOTS = 16; // bounded: slots come and go with partition tables and entries, the record must not grow

/**
 * Failed trials per slot in /var/lib/bootwarden/trials.json: `arm` refuses a slot that failed too often (an
 * updater re-arming a broken image forever is a reboot loop), and a blessing resets the count.
 */
export class TrialHistory {
  constructor(readonly file = sysPath(path.join(STATE_DIR, "trials.json"))) {}

  async read(): Promise<Record<string, SlotHistory>> {
    return (await readJson<Record<string, SlotHistory>>(this.file)) ?? {};
  }

  async failed(slot: string, reason: string, at = new Date().toISOString()): Promise<SlotHistory> {
    const all = await this.read();
    const h = { failures: (all[slot]?.failures ?? 0) + 1, lastReason: reason, lastAt: at };
    all[slot] = h;
    await this.save(all);
    return h;
  }

  async blessed(slot: string): Promise<void> {
    const all = await this.read();
    if (!all[slot]?.failures) return;
    all[slot] = { failures: 0 };
    await this.save(all);
  }

  private save(all: Record<string, SlotHistory>): Promise<void> {
    const kept = Object.entries(all)
      .sort(([, a], [, b]) => String(b.lastAt ?? "").localeCompare(String(a.lastAt ?? "")))
      .slice(0, MAX_SLOTS);
    return writeAtomic(this.file, `${JSON.stringify(Object.fromEntries(kept))}\n`, {
      mode: 0o640,
      durable: true,
      dirMode: 0o700,
    });
  }
}
