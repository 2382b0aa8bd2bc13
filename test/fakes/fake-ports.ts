import type { FlagWriter, HookContext, HookRunner, Motd, StatusStore } from "../../src/actions/ports.js";
import type { Clock } from "../../src/base/clock.js";
import { createLogger, type Logger } from "../../src/base/log.js";
import type { DaemonStatus, LastTrial, SlotKey } from "../../src/core/status.js";
import { started, type TrialRecord, type TryCount, tryOf } from "../../src/core/trial-log.js";
import type { Notifier } from "../../src/systemd/notify.js";

/** A monotonic clock that moves only when the test says; timers fire in order as it passes them. */
export class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  constructor(public t = 5000) {}
  now = (): number => this.t;
  after(ms: number, fn: () => void) {
    const id = ++this.seq;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return { cancel: () => (this.timers = this.timers.filter((x) => x.id !== id)) };
  }
  /** Moves to `to`, firing each timer due on the way at its own time. */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      const due = this.timers.filter((x) => x.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = to;
  }
  /** A process that dies takes its timers with it. */
  dropTimers(): void {
    this.timers = [];
  }
}

/** A clock whose timers all fire at once (on the next turn of the event loop): for code that waits, run for real. */
export const hastyClock: Clock = {
  now: () => Number(process.hrtime.bigint() / 1_000_000n),
  after(_ms, fn) {
    const t = setTimeout(fn, 0);
    return { cancel: () => clearTimeout(t) };
  },
};

/** status.json and last-trial.json in memory; copies in and out, as files would be. */
export class MemoryStore implements StatusStore {
  status?: DaemonStatus;
  lastTrial?: LastTrial;
  async read() {
    return this.status && (structuredClone(this.status) as DaemonStatus);
  }
  async write(s: DaemonStatus) {
    this.status = structuredClone(s);
  }
  async readLastTrial() {
    return this.lastTrial && { ...this.lastTrial };
  }
  async writeLastTrial(t: LastTrial) {
    this.lastTrial = { ...t };
  }
  /** Failed trials by slot identity. */
  readonly failures = new Map<string, number>();
  /** What a damaged record does to the real store: every record call fails. */
  failRecords?: Error;
  async countFailedTrial(k: SlotKey) {
    if (this.failRecords) throw this.failRecords;
    this.failures.set(k.id, (this.failures.get(k.id) ?? 0) + 1);
    return this.failures.get(k.id)!;
  }
  async resetFailedTrials(k: SlotKey) {
    if (this.failRecords) throw this.failRecords;
    this.failures.delete(k.id);
  }
  readonly trials: { slot: string; verdict?: string; reason?: string; by?: string }[] = [];
  /** The history as the real store keeps it, through the same pure functions, for the try count. */
  log: TrialRecord[] = [];
  /** The kernel's boot ID the store files records under: a test that "reboots" changes it. */
  bootId = "boot-1";
  async trialStarted(k: SlotKey, t?: TryCount) {
    if (this.failRecords) throw this.failRecords;
    this.trials.push({ slot: k.slot });
    this.log = started(this.log, this.bootId, k.slot, k.id, new Date().toISOString(), t);
  }
  async trialTry(k: SlotKey, left: number | null, done?: number | null) {
    return tryOf(left, done, k.id, this.log, this.bootId);
  }
  async trialDecided(k: SlotKey, verdict: string, reason: string, by: string) {
    if (this.failRecords) throw this.failRecords;
    this.trials.push({ slot: k.slot, verdict, reason, by });
  }
}

export class MemoryMotd implements Motd {
  readonly shown: (string | undefined)[] = [];
  async show(text: string | undefined) {
    if (this.shown.at(-1) !== text || this.shown.length === 0) this.shown.push(text);
  }
}

export class MemoryFlags implements FlagWriter {
  readonly writes: { which: string; reason: string }[] = [];
  async write(which: "healthy" | "unhealthy", reason: string) {
    this.writes.push({ which, reason });
  }
  readonly trials: string[] = [];
  async trial(slot: string) {
    this.trials.push(slot);
  }
}

export class RecordingHooks implements HookRunner {
  readonly runs: { which: string; ctx: HookContext }[] = [];
  hang?: "green" | "red";
  async run(which: "green" | "red", ctx: HookContext) {
    this.runs.push({ which, ctx });
    if (this.hang === which) await new Promise(() => undefined);
  }
}

export class RecordingNotifier implements Notifier {
  readonly sent: string[] = [];
  ready(status?: string) {
    this.sent.push(`READY=1${status ? ` STATUS=${status}` : ""}`);
  }
  status(text: string) {
    this.sent.push(`STATUS=${text}`);
  }
  stopping() {
    this.sent.push("STOPPING=1");
  }
  /** Each startWatchdog call's timeout (0: the unit's). */
  readonly watchdog: number[] = [];
  startWatchdog(timeoutUsec = 0) {
    this.watchdog.push(timeoutUsec);
  }
  close() {}
}

export interface LogRecord {
  level: number;
  msg: string;
  MESSAGE_ID?: string;
  [k: string]: unknown;
}

/** The daemon's own logger (pino, its JSON lines) at debug level, its records parsed back into an array. */
export function memoryLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = createLogger("bootwarden", { BOOTWARDEN_LOG_LEVEL: "debug" }, (line) =>
    records.push(JSON.parse(line) as LogRecord),
  );
  return { log, records };
}
