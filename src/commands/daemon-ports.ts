import { FileFlagWriter } from "../actions/flag-writer.js";
import { TextfileMetrics } from "../actions/metrics.js";
import { FileMotd } from "../actions/motd.js";
import type { FlagWriter, Motd, StatusStore } from "../actions/ports.js";
import type { Publisher } from "../actions/published-store.js";
import { FileStatusStore } from "../actions/status-store.js";
import { TrialRecords } from "../actions/trials.js";
import { type Clock, realClock } from "../base/clock.js";
import { createLogger, type Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import { raiseAutogroup } from "../base/priority.js";
import { DEFAULT_TEXTFILE_DIRECTORY } from "../config/defaults.js";
import type { Config } from "../config/schema.js";
import { avoidHugePages, collectGarbage, returnFreePages } from "../memory/heap.js";
import type { SystemdConnection } from "../systemd/api.js";
import { connectSystemd } from "../systemd/bus.js";
import { createNotifier, type Notifier } from "../systemd/notify.js";

/** A damaged record of ours, said under its MESSAGE_ID (once per file and reader). */
export const damaged = (log: Logger) => (p: string) =>
  log.warn({ MESSAGE_ID: MessageId.recordDamaged }, `${p}; ignored, replaced at the next write`);

/** What `bootwarden daemon` is built from: the real ones (realPorts), or fakes in the in-process tests. */
export interface DaemonPorts {
  log: Logger;
  notifier: Notifier;
  store: StatusStore;
  flags: FlagWriter;
  motd: Motd;
  clock: Clock;
  /** Created at once: its handshake runs while the config and the boot state are read. */
  systemd: () => SystemdConnection;
  collectHeap?: () => number;
  /** Keeps the daemon's heap off transparent huge pages (memory/heap.ts): false when it could not. */
  avoidHugePages?: () => boolean;
  /** The daemon's CPU weight in a busy boot (base/priority.ts): why it could not be raised, if it could not. */
  raisePriority?: () => string | undefined;
  /** Who learns each saved status (the metrics); the config's, or the defaults' when it is invalid. */
  publishers?: (config: Config | undefined) => Publisher[];
  /** Resolves when the daemon is asked to stop (SIGTERM). */
  stopSignal: Promise<void>;
  exit(code: number): void;
  pid: number;
}

export function realPorts(): DaemonPorts {
  const log = createLogger();
  return {
    log,
    notifier: createNotifier(process.env, (err) => log.warn(`sd_notify failed: ${err.message}`)),
    store: new FileStatusStore(undefined, undefined, damaged(log)),
    flags: new FileFlagWriter(),
    motd: new FileMotd(),
    clock: realClock,
    systemd: connectSystemd,
    collectHeap: () => {
      collectGarbage();
      returnFreePages();
      return process.memoryUsage().heapUsed;
    },
    // A missing addon is the lock's to report, with the boot state's name, when a write needs it.
    avoidHugePages: () => {
      try {
        return avoidHugePages();
      } catch {
        return false;
      }
    },
    raisePriority: () => raiseAutogroup("/proc/self/autogroup"),
    publishers: (config) => {
      const dir = config ? config.metrics.textfileDirectory : DEFAULT_TEXTFILE_DIRECTORY;
      if (!dir) return [];
      const metrics = new TextfileMetrics(dir, new TrialRecords(undefined, damaged(log)), (m) => log.info(m));
      return [(s) => metrics.update(s)];
    },
    stopSignal: new Promise<void>((resolve) => {
      for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve());
    }),
    exit: (code) => process.exit(code),
    pid: process.pid,
  };
}
