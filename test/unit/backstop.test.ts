// What the backstop does at the deadline: decided by the boot state as it is then, not by whether a verdict exists.
import { describe, expect, it } from "vitest";
import type { BootState } from "../../src/bootstate/types.js";
import { backstopPlan } from "../../src/commands/backstop.js";
import type { DaemonStatus } from "../../src/core/status.js";

const boot = (state: BootState["state"], trialBoot = state === "indeterminate"): BootState => ({
  backend: "gpt",
  source: "/dev/vda",
  bootedSlot: "PARTLABEL=USR-B",
  bootedId: "PARTUUID=b",
  trialBoot,
  state,
  triesLeft: 0,
  rolledBackFrom: null,
  slots: [],
});
const status = (verdict?: "healthy" | "degraded" | "unhealthy"): DaemonStatus => ({
  phase: verdict ? "verdict" : "assessing",
  updatedAt: "",
  pid: 1,
  done: [],
  notes: [],
  assessment: {
    slot: "PARTLABEL=USR-B",
    deadline: 1,
    settle: 0,
    action: "rollback",
    checks: [],
    ...(verdict ? { verdict: { verdict, reason: "r", at: 1 } } : {}),
  },
});

describe("the backstop at the deadline", () => {
  it("an unhealthy verdict whose mark-bad never got through is rolled back (the verdict existing is not enough)", () => {
    expect(backstopPlan(boot("indeterminate"), status("unhealthy"), "rollback")).toEqual({
      act: "rollback",
      why: "verdict unhealthy (r), not carried out",
    });
  });

  it("a slot marked bad whose reboot never came is rolled back again (the mark is idempotent, then the reboot)", () => {
    expect(backstopPlan(boot("bad", false), status("unhealthy"), "rollback").act).toBe("rollback");
  });

  it("no verdict at all: rolled back; with action report, only reported", () => {
    expect(backstopPlan(boot("indeterminate"), undefined, "rollback")).toEqual({
      act: "rollback",
      why: "no verdict",
    });
    expect(backstopPlan(boot("indeterminate"), status(), "report").act).toBe("report");
  });

  it("a blessed slot, or a blessing verdict the daemon still carries out, is left alone", () => {
    expect(backstopPlan(boot("good", false), status("unhealthy"), "rollback").act).toBe("nothing");
    expect(backstopPlan(boot("indeterminate"), status("healthy"), "rollback").act).toBe("nothing");
    expect(backstopPlan(boot("indeterminate"), status("degraded"), "rollback").act).toBe("nothing");
    expect(backstopPlan(boot("indeterminate"), status("unhealthy"), "report").act).toBe("nothing");
  });
});
