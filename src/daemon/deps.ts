import type { FlagWriter, HookRunner, Motd, StatusStore } from "../actions/ports.js";
import type { Clock } from "../base/clock.js";
import type { Logger } from "../base/log.js";
import type { BootStateBackend } from "../bootstate/types.js";
import type { Config } from "../config/schema.js";
import type { FoundScripts } from "../core/checks.js";
import type { SystemdApi } from "../systemd/api.js";
import type { Notifier } from "../systemd/notify.js";

/** What a Daemon is built from: the commands wire the real ones, the in-process tests fakes (test/fakes). */
export interface DaemonDeps {
  config: Config;
  backend: BootStateBackend;
  systemd: SystemdApi;
  store: StatusStore;
  flags: FlagWriter;
  hooks: HookRunner;
  motd: Motd;
  /** The scripts of the config's check directories, listed (and trusted) at start. */
  scripts?: FoundScripts;
  notifier: Notifier;
  /** One full collection of the heap (bytes in use after it), once the daemon idles after the verdict; none: never. */
  collectHeap?: () => number;
  /** After a fallback from a failed trial: the previous ostree/bootc deployment made the default (or nothing). */
  deployments?: { afterFallback(failed: { slot: string }): Promise<void> };
  log: Logger;
  clock: Clock;
  /** Leave so that systemd restarts the assessment (a watcher or an action failed for good). */
  exit(code: number, reason: string): void;
  pid: number;
}
