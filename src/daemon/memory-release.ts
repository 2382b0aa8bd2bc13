import type { Logger } from "../base/log.js";
import type { MemoryReleaser } from "../memory/release.js";
import type { Clock } from "./ports.js";

/** Quiet this long after the last event before collecting and giving memory back. */
export const RELEASE_QUIET_MS = 8000;
/** A unit that keeps flapping after the verdict must not turn the release into a loop of page faults. */
export const RELEASE_MIN_GAP_MS = 10 * 60_000;

/**
 * When the daemon gives memory back: once nothing is left to decide (a verdict, or a normal boot) and it has been
 * quiet for RELEASE_QUIET_MS; after that again only when later events (a late failure) have passed, at most once per
 * RELEASE_MIN_GAP_MS. What it released is logged at debug level; a failure is logged once and ends the releasing.
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
      const r = this.releaser!.release();
      this.log.debug(
        `idle: collected the heap (${(r.heapUsed / 1e6).toFixed(1)} MB in use), gave back ` +
          `${(r.binaryBytes / 1e6).toFixed(1)} MB of the node binary's pages${r.heapTrimmed ? " and malloc's free memory" : ""}`,
      );
    } catch (err) {
      this.broken = true;
      this.log.warn(`could not give memory back (${(err as Error).message}); keeping it`);
    }
  }
}
