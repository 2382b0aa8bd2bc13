import { describe, expect, it } from "vitest";
import { RELEASE_MIN_GAP_MS, RELEASE_QUIET_MS, ReleaseSchedule } from "../../src/daemon/memory-release.js";
import type { MemoryReleaser } from "../../src/memory/release.js";
import { FakeClock, memoryLogger } from "../fakes/fake-ports.js";

class CountingReleaser implements MemoryReleaser {
  at: number[] = [];
  fail = false;
  constructor(private readonly clock: FakeClock) {}
  release() {
    if (this.fail) throw new Error("madvise: Operation not permitted");
    this.at.push(this.clock.now());
    return { heapUsed: 4_200_000, binaryBytes: 31_000_000, heapTrimmed: true };
  }
}

function setup() {
  const clock = new FakeClock(1000);
  const releaser = new CountingReleaser(clock);
  const { log, records } = memoryLogger();
  return { clock, releaser, records, schedule: new ReleaseSchedule(releaser, clock, log) };
}

describe("ReleaseSchedule (when the idle daemon gives memory back)", () => {
  it("releases once it has been quiet for the quiet time after the last poke, and says what it gave back", async () => {
    const { clock, releaser, records, schedule } = setup();
    schedule.poke();
    await clock.advanceTo(1000 + RELEASE_QUIET_MS - 1);
    schedule.poke(); // something happened just before: the wait starts again
    await clock.advanceTo(1000 + 2 * RELEASE_QUIET_MS - 2);
    expect(releaser.at).toEqual([]);
    await clock.advanceTo(1000 + 2 * RELEASE_QUIET_MS);
    expect(releaser.at).toEqual([1000 + 2 * RELEASE_QUIET_MS - 1]);
    expect(records.map((r) => r.msg)).toEqual([
      "idle: collected the heap (4.2 MB in use), gave back 31.0 MB of the node binary's pages and malloc's free memory",
    ]);
  });

  it("after a release, later events release again only once the minimum gap has passed", async () => {
    const { clock, releaser, schedule } = setup();
    schedule.poke();
    await clock.advanceTo(1000 + RELEASE_QUIET_MS);
    const first = releaser.at[0]!;
    schedule.poke(); // a late failure, right after
    await clock.advanceTo(first + RELEASE_MIN_GAP_MS - 1);
    expect(releaser.at).toEqual([first]);
    await clock.advanceTo(first + RELEASE_MIN_GAP_MS);
    expect(releaser.at).toEqual([first, first + RELEASE_MIN_GAP_MS]);
    await clock.advanceTo(first + 3 * RELEASE_MIN_GAP_MS);
    expect(releaser.at).toHaveLength(2); // nothing happened since: nothing to give back
  });

  it("a release that fails is said once as a warning, and the schedule stops trying", async () => {
    const { clock, releaser, records, schedule } = setup();
    releaser.fail = true;
    schedule.poke();
    await clock.advanceTo(1000 + RELEASE_QUIET_MS);
    schedule.poke();
    await clock.advanceTo(1000 + 3 * RELEASE_MIN_GAP_MS);
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      [40, "could not give memory back (madvise: Operation not permitted); keeping it"],
    ]);
  });

  it("without a releaser, and after stop, nothing is scheduled", async () => {
    const clock = new FakeClock(0);
    const none = new ReleaseSchedule(undefined, clock, memoryLogger().log);
    none.poke();
    const { clock: c2, releaser, schedule } = setup();
    schedule.poke();
    schedule.stop();
    await clock.advanceTo(10 * RELEASE_MIN_GAP_MS);
    await c2.advanceTo(10 * RELEASE_MIN_GAP_MS);
    expect(releaser.at).toEqual([]);
  });
});
