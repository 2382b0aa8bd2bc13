import type { Clock } from "../base/clock.js";
import type { Logger } from "../base/log.js";

/** Quiet this long after the last event before collecting the heap. */
export const COLLECT_QUIET_MS = 6000;
/** A unit that keeps flapping after the verdict must not turn the collection into a loop. */
export const COLLECT_MIN_GAP_MS = 10 * 60_000;

/**
 * One full collection of V8's heap once nothing is left to decide (a verdict, or a normal boot) and the daemon has
 * been quiet for COLLECT_QUIET_MS; after that again only when later events (a late failure) have passed, at most
 * once per COLLECT_MIN_GAP_MS. V8's own memory reducer is off in the unit (it woke the idle daemon every 8 s), so
 * this is what returns the start's garbage. `collect` returns the heap's bytes in use after it; a failure is logged
 * once and ends the collecting.
 */
export class IdleCollector {
  private timer?: { cancel(): void };
  private lastAt?: number;
  private broken = false;

  constructor(
    private readonly collect: (() => number) | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Something happened after the verdict: the collection waits until it has been quiet again. */
  poke(): void {
    if (!this.collect || this.broken) return;
    this.timer?.cancel();
    const now = this.clock.now();
    const at = Math.max(
      now + COLLECT_QUIET_MS,
      this.lastAt === undefined ? 0 : this.lastAt + COLLECT_MIN_GAP_MS,
    );
    this.timer = this.clock.after(at - now, () => this.run());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private run(): void {
    this.timer = undefined;
    this.lastAt = this.clock.now();
    try {
      const inUse = this.collect!();
      this.log.debug(`idle: collected the heap (${(inUse / 1e6).toFixed(1)} MB in use)`);
    } catch (err) {
      this.broken = true;
      this.log.warn(`could not collect the heap (${(err as Error).message}); not trying again`);
    }
  }
}
