import { describe, expect, it } from "vitest";
import {
  RELEASE_MIN_GAP_MS,
  RELEASE_QUIET_MS,
  RELEASE_SETTLE_MS,
  ReleaseSchedule,
} from "../../src/daemon/memory-release.js";
import type { MemoryReleaser } from "../../src/memory/release.js";
import { FakeClock, memoryLogger } from "../fakes/fake-ports.js";

/** Records when each step ran; `fail` makes one of them throw. */
class RecordingReleaser implements MemoryReleaser {
  steps: string[] = [];
  fail?: "collect" | "trim";
  constructor(private readonly clock: FakeClock) {}
  collect() {
    if (this.fail === "collect") throw new Error("no gc");
    this.steps.push(`collect@${this.clock.now()}`);
    return 4_200_000;
  }
  trim() {
    if (this.fail === "trim") throw new Error("madvise: Operation not permitted");
    this.steps.push(`trim@${this.clock.now()}`);
    return { binaryBytes: 31_000_000, heapTrimmed: true };
  }
}

function setup() {
  const clock = new FakeClock(1000);
  const releaser = new RecordingReleaser(clock);
  const { log, records } = memoryLogger();
  return { clock, releaser, records, schedule: new ReleaseSchedule(releaser, clock, log) };
}

describe("ReleaseSchedule (when the idle daemon gives memory back)", () => {
  it("collects once it has been quiet after the last poke, trims after the settle time, and says what it gave back", async () => {
    const { clock, releaser, records, schedule } = setup();
    schedule.poke();
    await clock.advanceTo(1000 + RELEASE_QUIET_MS - 1);
    schedule.poke(); // something happened just before: the wait starts again
    const quietFrom = 1000 + RELEASE_QUIET_MS - 1;
    await clock.advanceTo(quietFrom + RELEASE_QUIET_MS - 1);
    expect(releaser.steps).toEqual([]);
    await clock.advanceTo(quietFrom + RELEASE_QUIET_MS + RELEASE_SETTLE_MS);
    expect(releaser.steps).toEqual([
      `collect@${quietFrom + RELEASE_QUIET_MS}`,
      `trim@${quietFrom + RELEASE_QUIET_MS + RELEASE_SETTLE_MS}`,
    ]);
    expect(records.map((r) => r.msg)).toEqual([
      "idle: collected the heap (4.2 MB in use), gave back 31.0 MB of the node binary's pages and malloc's free memory",
    ]);
  });

  it("an event between the collection and the trim puts the whole release off until it is quiet again", async () => {
    const { clock, releaser, schedule } = setup();
    schedule.poke();
    await clock.advanceTo(1000 + RELEASE_QUIET_MS);
    schedule.poke();
    await clock.advanceTo(1000 + RELEASE_QUIET_MS + RELEASE_SETTLE_MS);
    expect(releaser.steps).toEqual([`collect@${1000 + RELEASE_QUIET_MS}`]);
  });

  it("after a release, later events release again only once the minimum gap has passed", async () => {
    const { clock, releaser, schedule } = setup();
    schedule.poke();
    await clock.advanceTo(1000 + RELEASE_QUIET_MS + RELEASE_SETTLE_MS);
    const first = 1000 + RELEASE_QUIET_MS;
    schedule.poke(); // a late failure, right after
    await clock.advanceTo(first + RELEASE_MIN_GAP_MS - 1);
    expect(releaser.steps).toHaveLength(2);
    await clock.advanceTo(first + RELEASE_MIN_GAP_MS + RELEASE_SETTLE_MS);
    expect(releaser.steps.slice(2)).toEqual([
      `collect@${first + RELEASE_MIN_GAP_MS}`,
      `trim@${first + RELEASE_MIN_GAP_MS + RELEASE_SETTLE_MS}`,
    ]);
    await clock.advanceTo(first + 3 * RELEASE_MIN_GAP_MS);
    expect(releaser.steps).toHaveLength(4); // nothing happened since: nothing to give back
  });

  it.each(["collect", "trim"] as const)(
    "a %s that fails is said once as a warning, and releasing stops",
    async (step) => {
      const { clock, releaser, records, schedule } = setup();
      releaser.fail = step;
      schedule.poke();
      await clock.advanceTo(1000 + RELEASE_QUIET_MS + RELEASE_SETTLE_MS);
      schedule.poke();
      await clock.advanceTo(1000 + 3 * RELEASE_MIN_GAP_MS);
      expect(records.map((r) => [r.level, r.msg])).toEqual([
        [
          40,
          `could not give memory back (${step === "collect" ? "no gc" : "madvise: Operation not permitted"}); keeping it`,
        ],
      ]);
      expect(releaser.steps).toEqual(step === "trim" ? [`collect@${1000 + RELEASE_QUIET_MS}`] : []);
    },
  );

  it("without a releaser, and after stop, nothing runs", async () => {
    const { clock, releaser, schedule } = setup();
    new ReleaseSchedule(undefined, clock, memoryLogger().log).poke();
    schedule.poke();
    schedule.stop();
    await clock.advanceTo(10 * RELEASE_MIN_GAP_MS);
    expect(releaser.steps).toEqual([]);
  });
});
