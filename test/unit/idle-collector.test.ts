import { describe, expect, it } from "vitest";
import { COLLECT_MIN_GAP_MS, COLLECT_QUIET_MS, IdleCollector } from "../../src/daemon/idle-collector.js";
import { FakeClock, memoryLogger } from "../fakes/fake-ports.js";

function setup(fail = false) {
  const clock = new FakeClock(1000);
  const runs: number[] = [];
  const { log, records } = memoryLogger();
  const collect = () => {
    if (fail) throw new Error("no gc");
    runs.push(clock.now());
    return 4_200_000;
  };
  return { clock, runs, records, idle: new IdleCollector(collect, clock, log) };
}

describe("IdleCollector (when the idle daemon collects its heap)", () => {
  it("collects once it has been quiet after the last poke, and says so at debug level", async () => {
    const { clock, runs, records, idle } = setup();
    idle.poke();
    await clock.advanceTo(1000 + COLLECT_QUIET_MS - 1);
    idle.poke(); // something happened just before: the wait starts again
    const quietFrom = 1000 + COLLECT_QUIET_MS - 1;
    await clock.advanceTo(quietFrom + COLLECT_QUIET_MS - 1);
    expect(runs).toEqual([]);
    await clock.advanceTo(quietFrom + COLLECT_QUIET_MS);
    expect(runs).toEqual([quietFrom + COLLECT_QUIET_MS]);
    expect(records.map((r) => [r.level, r.msg])).toEqual([[20, "idle: collected the heap (4.2 MB in use)"]]);
  });

  it("after a collection, later events collect again only once the minimum gap has passed", async () => {
    const { clock, runs, idle } = setup();
    idle.poke();
    await clock.advanceTo(1000 + COLLECT_QUIET_MS);
    const first = 1000 + COLLECT_QUIET_MS;
    idle.poke(); // a late failure, right after
    await clock.advanceTo(first + COLLECT_MIN_GAP_MS - 1);
    expect(runs).toHaveLength(1);
    await clock.advanceTo(first + COLLECT_MIN_GAP_MS);
    expect(runs).toEqual([first, first + COLLECT_MIN_GAP_MS]);
    await clock.advanceTo(first + 3 * COLLECT_MIN_GAP_MS);
    expect(runs).toHaveLength(2); // nothing happened since
  });

  it("a collection that fails is said once as a warning, and collecting stops", async () => {
    const { clock, records, idle } = setup(true);
    idle.poke();
    await clock.advanceTo(1000 + COLLECT_QUIET_MS);
    idle.poke();
    await clock.advanceTo(1000 + 3 * COLLECT_MIN_GAP_MS);
    expect(records.map((r) => [r.level, r.msg])).toEqual([
      [40, "could not collect the heap (no gc); not trying again"],
    ]);
  });

  it("without a collector, and after stop, nothing runs", async () => {
    const { clock, runs, idle } = setup();
    new IdleCollector(undefined, clock, memoryLogger().log).poke();
    idle.poke();
    idle.stop();
    await clock.advanceTo(10 * COLLECT_MIN_GAP_MS);
    expect(runs).toEqual([]);
  });
});
