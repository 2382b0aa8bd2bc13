import type { StatusStore } from "../actions/ports.js";
import type { Clock } from "../base/clock.js";
import type { Logger } from "../base/log.js";
import type { DaemonStatus } from "../core/status.js";

/** Check-only changes feed `bootwarden status`, not the resume: saved at most this often. */
const COALESCE_MS = 250;

/**
 * status.json, one write at a time, each taking the state when it begins: two renames racing could otherwise leave
 * an older state in the file than the last one saved.
 */
export class StatusSaver {
  private saving: Promise<void> = Promise.resolve();
  private soon?: { cancel(): void };

  constructor(
    private readonly d: { store: StatusStore; clock: Clock; log: Pick<Logger, "warn"> },
    /** The state to write, taken when the write begins (stamped with the time then). */
    private readonly state: () => DaemonStatus,
  ) {}

  save(): Promise<void> {
    const write = () => this.d.store.write({ ...this.state(), updatedAt: new Date().toISOString() });
    const p = this.saving.then(write, write);
    this.saving = p.catch(() => undefined);
    return p;
  }

  saveSoon(): void {
    if (this.soon) return;
    this.soon = this.d.clock.after(COALESCE_MS, () => {
      this.soon = undefined;
      this.save().catch((err: Error) => this.d.log.warn(`could not write the status file: ${err.message}`));
    });
  }

  stop(): void {
    this.soon?.cancel();
    this.soon = undefined;
  }
}
