import { describe, expect, it } from "vitest";
import { backstopPlan } from "../../src/commands/backstop.js";
import { configSchema } from "../../src/config/schema.js";
import { planStart } from "../../src/core/start.js";
import { type TrialRecord, tryOf, tryText } from "../../src/core/trial-log.js";
import { MemoryBackend } from "../fakes/memory-backend.js";

const rec = (boot: string, id: string, t?: number, of?: number): TrialRecord => ({
  boot,
  slot: id,
  id,
  startedAt: "2026-12-03T00:00:00Z",
  ...(t ? { try: t, of } : {}),
});

describe("which try of a trial a boot is", () => {
  it("systemd-boot's +LEFT-DONE says it itself", () => {
    expect(tryOf(1, 2, "b.conf", [], "x")).toEqual({ n: 2, of: 3 });
  });
  it("a first trial boot is try 1 of the tries left plus this one", () => {
    expect(tryOf(2, null, "B", [], "b1")).toEqual({ n: 1, of: 3 });
  });
  it("the previous boot's try of the same slot continues when the figures add up, whatever its verdict", () => {
    expect(tryOf(1, null, "B", [rec("b1", "B", 1, 3)], "b2")).toEqual({ n: 2, of: 3 });
    expect(tryOf(0, null, "B", [rec("b1", "B", 1, 3), rec("b2", "B", 2, 3)], "b3")).toEqual({ n: 3, of: 3 });
  });
  it("a re-armed slot, another slot in between, or figures that do not add up start again at 1", () => {
    expect(tryOf(2, null, "B", [rec("b1", "B", 1, 3)], "b2")).toEqual({ n: 1, of: 3 });
    expect(tryOf(1, null, "B", [rec("b1", "B", 1, 3), rec("b2", "A")], "b3")).toEqual({ n: 1, of: 2 });
  });
  it("a restarted daemon keeps this boot's count", () => {
    expect(tryOf(1, null, "B", [rec("b1", "B", 1, 3), rec("b2", "B", 2, 3)], "b2")).toEqual({ n: 2, of: 3 });
  });
  it("no count where the boot loader keeps none; no text for a trial of one try", () => {
    expect(tryOf(null, null, "B", [], "b1")).toBeUndefined();
    expect(tryText({ n: 1, of: 1 })).toBe("");
    expect(tryText({ n: 2, of: 3 })).toBe("try 2 of 3");
  });
});

describe("action: retry", () => {
  const cfg = configSchema.parse({ assessment: { action: "retry" } }).assessment;
  const plan = async (left: number | null) => {
    const boot = { ...(await new MemoryBackend("B").read()), triesLeft: left };
    return planStart(boot, undefined, [], cfg, 0n, 0, 1).assessment.action;
  };
  it("is kept while the boot loader grants tries; the last try (or no count at all) rolls back", async () => {
    expect(await plan(2)).toBe("retry");
    expect(await plan(0)).toBe("rollback");
    expect(await plan(null)).toBe("rollback");
  });
  it("the backstop retries with tries left and rolls back on the last try", async () => {
    const boot = await new MemoryBackend("B").read();
    expect(backstopPlan({ ...boot, triesLeft: 1 }, undefined, "retry").act).toBe("retry");
    expect(backstopPlan({ ...boot, triesLeft: 0 }, undefined, "retry").act).toBe("rollback");
    expect(backstopPlan({ ...boot, triesLeft: 1 }, undefined, "rollback").act).toBe("rollback");
  });
});
