import { describe, expect, it } from "vitest";
import {
  CONFIRM_AFTER_MS,
  CONFIRM_ROUNDS,
  READ_BACK_ON_RESUME_WITHIN_MS,
} from "../../src/actions/confirm-mark.js";
import { MessageId } from "../../src/base/message-ids.js";
import { machine } from "../fakes/daemon-machine.js";

/** A daemon that blessed slot B's trial, with a step to the next read back. */
async function blessed() {
  const m = machine();
  const d = m.daemon();
  await d.start(await m.backend.read());
  m.systemd.set("app.service", { ActiveState: "active", SubState: "running" });
  await new Promise((r) => setTimeout(r, 10));
  await d.idle();
  expect(m.backend.writes.good).toBe(1);
  const undone = () => m.withId(MessageId.markUndone);
  /** Moves the clock one read-back further and lets the read and any write finish. */
  const nextReadBack = async () => {
    await m.clock.advanceTo(m.clock.now() + CONFIRM_AFTER_MS);
    await new Promise((r) => setTimeout(r, 10));
  };
  /** The daemon dies before its read-back, the mark is undone meanwhile, and systemd starts a new one `after` ms later. */
  const restartUndone = async (after: number) => {
    await d.stop();
    m.clock.dropTimers();
    m.backend.slots.B!.good = false;
    await m.clock.advanceTo(m.clock.now() + after);
    const next = m.daemon();
    await next.start(await m.backend.read());
    await next.idle();
    expect(m.backend.writes.good).toBe(1); // resumed: the mark is done and not made again at once
  };
  return { ...m, undone, nextReadBack, restartUndone };
}

describe("the mark good, read back after the verdict", () => {
  it("a mark that another writer undid (the slot in its trial state again) is made again, with a warning", async () => {
    const m = await blessed();
    m.backend.slots.B!.good = false; // a stale copy of the state written back over the mark
    await m.nextReadBack();
    expect(m.backend.writes.good).toBe(2);
    expect(m.undone().map((r) => r.level)).toEqual([40]);
    expect(m.undone()[0]?.msg).toMatch(
      /^slot B: another writer of memory undid the mark good .*; marked B good$/,
    );
    await m.nextReadBack(); // read back again: it held this time
    expect(m.backend.writes.good).toBe(2);
    expect(m.undone()).toHaveLength(1);
  });

  it("a mark that held is read back once and nothing more happens", async () => {
    const m = await blessed();
    await m.nextReadBack();
    await m.nextReadBack();
    expect(m.backend.writes.good).toBe(1);
    expect(m.undone()).toHaveLength(0);
  });

  it("a slot marked bad meanwhile (an operator's decision) is left bad", async () => {
    const m = await blessed();
    m.backend.slots.B!.bad = true;
    m.backend.slots.B!.good = false;
    await m.nextReadBack();
    expect(m.backend.writes.good).toBe(1);
    expect((await m.backend.read()).state).toBe("bad");
    expect(m.undone()).toHaveLength(0);
  });

  it(`a mark undone every time is made again ${CONFIRM_ROUNDS} times, then an error and no more writes`, async () => {
    const m = await blessed();
    for (let i = 0; i <= CONFIRM_ROUNDS + 1; i++) {
      m.backend.slots.B!.good = false;
      await m.nextReadBack();
    }
    expect(m.backend.writes.good).toBe(1 + CONFIRM_ROUNDS);
    expect(m.undone().map((r) => r.level)).toEqual([...Array(CONFIRM_ROUNDS).fill(40), 50]);
    expect(m.undone().at(-1)?.msg).toBe(
      `slot B: the mark good was undone in memory ${CONFIRM_ROUNDS} times over; giving up (the next boot is a trial again)`,
    );
  });

  it("a read that fails is said once and never throws into the daemon", async () => {
    const m = await blessed();
    m.backend.read = () => Promise.reject(new Error("disk gone"));
    await m.nextReadBack();
    expect(m.records.filter((r) => r.level === 40).map((r) => r.msg)).toContain(
      "slot B: could not read back the mark good: disk gone",
    );
    expect(m.backend.writes.good).toBe(1);
  });
});

describe("the mark good, read back by a daemon restarted after it", () => {
  it("within seconds of the verdict: the new daemon reads it back in its predecessor's place", async () => {
    const m = await blessed();
    await m.restartUndone(1000); // Restart= brings it back in about a second
    await m.nextReadBack();
    expect(m.backend.writes.good).toBe(2);
    expect(m.undone().map((r) => r.level)).toEqual([40]);
    expect((await m.backend.read()).state).toBe("good");
  });

  it("long after the verdict: a slot in its trial state again is someone's new trial and is left alone", async () => {
    const m = await blessed();
    await m.restartUndone(READ_BACK_ON_RESUME_WITHIN_MS);
    await m.nextReadBack();
    await m.nextReadBack();
    expect(m.backend.writes.good).toBe(1);
    expect(m.undone()).toHaveLength(0);
    expect((await m.backend.read()).state).toBe("indeterminate");
  });
});
