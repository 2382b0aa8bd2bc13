import { stat } from "node:fs/promises";
import path from "node:path";
import { writeAtomic } from "../base/atomic-write.js";
import { sysPath } from "../base/paths.js";
import { VERSION } from "../base/version.js";
import { renderMetrics } from "../core/metrics.js";
import type { DaemonStatus } from "../core/status.js";
import type { TrialRecords } from "./trials.js";

export const METRICS_FILE = "bootwarden.prom";

/**
 * node-exporter's textfile collector: `bootwarden.prom` in its directory, rendered from each status the daemon saves
 * (so the metrics never say what status.json does not), written beside-and-renamed only when the text changed. A
 * directory that does not exist (no node-exporter) is said once and skipped; nothing is created.
 */
export class TextfileMetrics {
  private last?: string;
  private said = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly records: Pick<TrialRecords, "counters" | "history">,
    private readonly note: (msg: string) => void,
  ) {}

  /** Called with every status saved; writes run one at a time, in order. */
  update(s: DaemonStatus): Promise<void> {
    const run = () => this.write(s);
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  private async write(s: DaemonStatus): Promise<void> {
    const dir = sysPath(this.dir);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) {
      if (!this.said)
        this.note(`no metrics written: ${this.dir} is not a directory (is node-exporter installed?)`);
      this.said = true;
      return;
    }
    const [c, log] = await Promise.all([this.records.counters(), this.records.history()]);
    const decided = log.findLast((r) => r.decidedAt)?.decidedAt;
    const text = renderMetrics({
      version: VERSION,
      status: s,
      rollbacks: c.rollbacks,
      blessings: c.blessings,
      ...(decided ? { lastVerdictAt: Date.parse(decided) } : {}),
    });
    if (text === this.last) return;
    await writeAtomic(path.join(dir, METRICS_FILE), text, { mode: 0o644, inPlace: true });
    this.last = text;
  }
}
