import type { Clock } from "../base/clock.js";

/** One timer for one moment: set again to the same moment, it keeps running; to another, it moves; undefined stops it. */
export class Wakeup {
  private current?: { at: number; timer: { cancel(): void } };

  constructor(
    private readonly clock: Clock,
    private readonly fire: () => void,
  ) {}

  at(at: number | undefined): void {
    if (at === this.current?.at) return;
    this.current?.timer.cancel();
    this.current = undefined;
    if (at === undefined) return;
    const timer = this.clock.after(at - this.clock.now(), () => {
      this.current = undefined;
      this.fire();
    });
    this.current = { at, timer };
  }
}
