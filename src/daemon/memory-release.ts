import type { Logger } from "../base/log.js";
import type { MemoryReleaser } from "../memory/release.js";
import type { Clock } from "./ports.js";

/** Quiet this long after the last event before collecting the heap. */
export const RELEASE_QUIET_MS = 6000;
/** Then this long before the trim: Node 20's collector frees from its own threads after the collection returns. */
export const RELEASE_SETTLE_MS = 2000;
/** A unit that keeps flapping after the verdict must not turn the release into a loop of collections. */
export const RELEASE_MIN_GAP_MS = 10 * 60_000;

/**
 * When the daemon gives memory back: once nothing is left to decide (a verdict, or a normal boot) and it has been
 * quiet for RELEASE_QUIET_MS; after that again only when later events (a late failure) have passed, at most once per
 * RELEASE_MIN_GAP_MS. The collection comes first, the trim RELEASE_SETTLE_MS after it. What it gave back is logged
 * at debug level; a failure is logged once and ends the releasing.
 */
export class ReleaseSchedule {
  private timer?: { cancel(): void };
  private lastAt?: number;
  private broken = false;

  constructor(
    private readonly releaser: MemoryReleaser | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Something happened after the verdict: the release waits until it has been quiet again. */
  poke(): void {
    if (!this.releaser || this.broken) return;
    this.timer?.cancel();
    const now = this.clock.now();
    const at = Math.max(
      now + RELEASE_QUIET_MS,
      this.lastAt === undefined ? 0 : this.lastAt + RELEASE_MIN_GAP_MS,
    );
    this.timer = this.clock.after(at - now, () => this.collect());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private collect(): void {
    this.lastAt = this.clock.now();
    const heapUsed = this.attempt(() => this.releaser!.collect());
    if (heapUsed === undefined) return;
    this.timer = this.clock.after(RELEASE_SETTLE_MS, () => {
      this.timer = undefined;
      const r = this.attempt(() => this.releaser!.trim());
      if (r)
        this.log.debug(
          `idle: collected the heap (${(heapUsed / 1e6).toFixed(1)} MB in use), gave back ` +
            `${(r.binaryBytes / 1e6).toFixed(1)} MB of the node binary's pages${r.heapTrimmed ? " and malloc's free memory" : ""}`,
        );
    });
  }

  private attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.broken = true;
      this.timer = undefined;
      this.log.warn(`could not give memory back (${(err as Error).message}); keeping it`);
      return undefined;
    }
  }
}
