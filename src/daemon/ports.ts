import type { DaemonStatus, LastTrial, SlotKey } from "../core/status.js";

/**
 * What the daemon is built from. The commands wire the real ones (D-Bus, files under /run and /var/lib, timers);
 * the in-process tests wire fakes of these interfaces, so a whole Daemon runs in a test.
 */

/** CLOCK_MONOTONIC milliseconds (systemd's unit timestamps are on it) and timers on the same clock. */
export interface Clock {
  now(): number;
  after(ms: number, fn: () => void): { cancel(): void };
}

export interface StatusStore {
  read(): Promise<DaemonStatus | undefined>;
  write(s: DaemonStatus): Promise<void>;
  readLastTrial(): Promise<LastTrial | undefined>;
  /** Durable: it must survive the reboot that follows. */
  writeLastTrial(t: LastTrial): Promise<void>;
  /** Reboot-loop protection: counts a failed trial of the slot; returns the failures since it was last blessed. */
  countFailedTrial(k: SlotKey, reason: string): Promise<number>;
  resetFailedTrials(k: SlotKey): Promise<void>;
  /** The history `bootwarden history` shows: a trial of this boot started, and its verdict. */
  trialStarted(k: SlotKey): Promise<void>;
  trialDecided(k: SlotKey, verdict: string, reason: string, by: "daemon" | "backstop"): Promise<void>;
}

/** The login notice; undefined removes it. */
export interface Motd {
  show(text: string | undefined): Promise<void>;
}

/** /run/bootwarden/healthy and /run/bootwarden/unhealthy: exactly one of them exists once there is a verdict. */
export interface FlagWriter {
  write(which: "healthy" | "unhealthy", reason: string): Promise<void>;
}

export interface HookContext {
  slot: string;
  verdict: string;
  reason: string;
}

export interface HookRunner {
  run(which: "green" | "red", ctx: HookContext): Promise<void>;
}

export const realClock: Clock = {
  now: () => Number(process.hrtime.bigint() / 1_000_000n),
  after(ms, fn) {
    // setTimeout holds at most 2^31-1 ms; longer waits are re-armed in steps.
    const MAX = 2 ** 31 - 1;
    let t: NodeJS.Timeout;
    const arm = (left: number) => {
      t = setTimeout(() => (left > MAX ? arm(left - MAX) : fn()), Math.min(Math.max(0, left), MAX));
    };
    arm(ms);
    return { cancel: () => clearTimeout(t) };
  },
};
