import type { StatusStore } from "../actions/ports.js";
import type { Clock } from "../base/clock.js";
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
    private readonly store: StatusStore,
    private readonly clock: Clock,
    /** The state to write, taken when the write begins. */
    private readonly state: () => DaemonStatus,
    private readonly warn: (msg: string) => void,
  ) {}

  save(): Promise<void> {
    const write = () => this.store.write(this.state());
    const p = this.saving.then(write, write);
    this.saving = p.catch(() => undefined);
    return p;
  }

  saveSoon(): void {
    if (this.soon) return;
    this.soon = this.clock.after(COALESCE_MS, () => {
      this.soon = undefined;
      this.save().catch((err: Error) => this.warn(`could not write the status file: ${err.message}`));
    });
  }

  stop(): void {
    this.soon?.cancel();
    this.soon = undefined;
  }
}
