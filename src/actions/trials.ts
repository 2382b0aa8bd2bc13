import { readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { writeAtomic } from "../base/atomic-write.js";
import { STATE_DIR, sysPath } from "../base/paths.js";
import { type Parsed, readRecord } from "../base/read-json.js";
import {
  type Counters,
  parseCounters,
  parseDeploymentRollback,
  parseFailures,
  parseHistory,
  parseLastTrial,
  type SlotHistory,
} from "../core/records.js";
import type { LastTrial, SlotKey } from "../core/status.js";
import { decided, started, type TrialRecord, type TryCount, tryOf } from "../core/trial-log.js";

/** This boot's ID, from the kernel; "" when it cannot be read (then records are keyed by slot alone). */
export async function bootId(file = sysPath("/proc/sys/kernel/random/boot_id")): Promise<string> {
  return (await readFile(file, "utf8").catch(() => "")).trim().replaceAll("-", "");
}

const MAX_SLOTS = 16;
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const COUNTERS = "counters.json";
const DEPLOYMENT = "deployment-rollback.json"; // bounded: slots come and go with partition tables and entries, the record must not grow

/**
 * The trial bookkeeping, all of it, in /var/lib/bootwarden (0700; files 0640):
 * - trials.json: failed trials per slot *identity* since it was last blessed; `arm` refuses a slot that failed too
 *   often (an updater re-arming a broken image forever is a reboot loop), any blessing resets it;
 * - history.json: the trial boots `bootwarden history` shows, newest last, bounded;
 * - last-trial.json: the last trial that was rolled back, for the boot that follows;
 * - counters.json: trials rolled back and blessed, ever (the metrics' counters).
 * A damaged file is reported once through `onDamaged`, read as empty, and replaced by the next write: nothing a
 * record holds can stop a rollback.
 */
export class TrialRecords {
  private readonly said = new Set<string>();

  constructor(
    readonly dir = sysPath(STATE_DIR),
    private readonly onDamaged: (problem: string) => void = () => undefined,
  ) {}

  private async read<T>(name: string, parse: (v: unknown) => Parsed<T>): Promise<T | undefined> {
    const r = await readRecord(path.join(this.dir, name), parse);
    if (r.problem && !this.said.has(name)) {
      this.said.add(name);
      this.onDamaged(r.problem);
    }
    return r.value;
  }

  private save(name: string, value: unknown): Promise<void> {
    return writeAtomic(path.join(this.dir, name), `${JSON.stringify(value, null, 1)}\n`, {
      mode: 0o640,
      durable: true,
      dirMode: 0o700,
    });
  }

  async failures(): Promise<Record<string, SlotHistory>> {
    return (await this.read("trials.json", parseFailures)) ?? {};
  }

  /** Trials rolled back and blessed on this machine, ever (the metrics' counters). */
  async counters(): Promise<Counters> {
    return (await this.read(COUNTERS, parseCounters)) ?? { rollbacks: 0, blessings: 0 };
  }

  private async bump(which: keyof Counters): Promise<void> {
    const c = await this.counters();
    await this.save(COUNTERS, { ...c, [which]: c[which] + 1 });
  }

  /** Counts a failed trial; returns the failures since the slot was last blessed. */
  async failed(k: SlotKey, reason: string, at = new Date().toISOString()): Promise<number> {
    await this.bump("rollbacks");
    const all = await this.failures();
    const h = { failures: (all[k.id]?.failures ?? 0) + 1, slot: k.slot, lastReason: reason, lastAt: at };
    all[k.id] = h;
    const kept = Object.entries(all)
      // ISO times order as strings; a plain comparison, as localeCompare would load ICU's collation data (2 MB).
      .sort(([, a], [, b]) => byText(String(b.lastAt ?? ""), String(a.lastAt ?? "")))
      .slice(0, MAX_SLOTS);
    await this.save("trials.json", Object.fromEntries(kept));
    return h.failures;
  }

  /** A blessing, by the daemon or an operator: the slot starts over. */
  async blessed(k: SlotKey): Promise<void> {
    await this.bump("blessings");
    const all = await this.failures();
    if (!all[k.id]?.failures) return;
    all[k.id] = { failures: 0, slot: k.slot };
    await this.save("trials.json", all);
  }

  async history(): Promise<TrialRecord[]> {
    return (await this.read("history.json", parseHistory)) ?? [];
  }

  async tryOf(k: SlotKey, left: number | null, done?: number | null): Promise<TryCount | undefined> {
    return tryOf(left, done, k.id, await this.history(), await bootId());
  }

  async started(k: SlotKey, t?: TryCount): Promise<void> {
    // A new trial: the deployment rollback of an earlier failed one is done with.
    await unlink(path.join(this.dir, DEPLOYMENT)).catch(() => undefined);
    const log = await this.history();
    const next = started(log, await bootId(), k.slot, k.id, new Date().toISOString(), t);
    if (next !== log) await this.save("history.json", next);
  }

  async decided(
    k: SlotKey,
    verdict: string,
    reason: string,
    by: NonNullable<TrialRecord["by"]>,
  ): Promise<void> {
    const log = await this.history();
    const d = {
      boot: await bootId(),
      slot: k.slot,
      verdict,
      reason,
      by,
      decidedAt: new Date().toISOString(),
    };
    const next = decided(log, d);
    if (next !== log) await this.save("history.json", next);
  }

  /** Whether the previous deployment was made the default after the last failed trial (once, until a new trial). */
  async deploymentRolledBack(): Promise<boolean> {
    return (await this.read(DEPLOYMENT, parseDeploymentRollback)) !== undefined;
  }

  recordDeploymentRollback(slot: string, how: string): Promise<void> {
    return this.save(DEPLOYMENT, { slot, how, at: new Date().toISOString() });
  }

  lastTrial(): Promise<LastTrial | undefined> {
    return this.read("last-trial.json", parseLastTrial);
  }

  writeLastTrial(t: LastTrial): Promise<void> {
    return this.save("last-trial.json", t);
  }
}
