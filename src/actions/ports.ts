import type { DaemonStatus, LastTrial, SlotKey } from "../core/status.js";
import type { TryCount } from "../core/trial-log.js";

/**
 * The contracts of the actions' files and runners (status and records, the flags, the login notice, the hooks): the
 * commands wire the real ones from this folder, the in-process tests fakes of them (test/fakes), so a whole Daemon
 * runs in a test.
 */

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
  trialStarted(k: SlotKey, t?: TryCount): Promise<void>;
  /** Which try of its trial this boot is (the history says what the boot loader's tries left alone cannot). */
  trialTry(k: SlotKey, left: number | null, done?: number | null): Promise<TryCount | undefined>;
  trialDecided(k: SlotKey, verdict: string, reason: string, by: "daemon" | "backstop"): Promise<void>;
}

/** The login notice; undefined removes it. */
export interface Motd {
  show(text: string | undefined): Promise<void>;
}

/** /run/bootwarden/healthy and /run/bootwarden/unhealthy: exactly one of them exists once there is a verdict. */
export interface FlagWriter {
  write(which: "healthy" | "unhealthy", reason: string): Promise<void>;
  /**
   * /run/bootwarden/trial: this boot is a trial of the slot it names. Written as soon as the boot state says so (even
   * when the configuration is invalid), so that a gate outside bootwarden (Flatcar's update-engine drop-in) holds
   * back only during a trial, with a shell test and nothing of ours running.
   */
  trial(slot: string): Promise<void>;
}

export interface HookContext {
  slot: string;
  verdict: string;
  reason: string;
}

export interface HookRunner {
  run(which: "green" | "red", ctx: HookContext): Promise<void>;
}
