import { describe, expect, it } from "vitest";
import { MessageId } from "../../src/base/message-ids.js";
import type { BootState } from "../../src/bootstate/types.js";
import { configSchema } from "../../src/config/schema.js";
import { doneKey, newAssessment, verdictEffects } from "../../src/core/assessment.js";
import { checksFromConfig } from "../../src/core/checks.js";
import { trialDeadline } from "../../src/core/deadline.js";
import { recordOf } from "../../src/core/messages.js";
import { planStart } from "../../src/core/start.js";
import type { DaemonStatus } from "../../src/core/status.js";
import { statusText } from "../../src/core/status-text.js";

const cfg = configSchema.parse({
  assessment: { deadline: "2m", critical: { units: ["a.service"] } },
}).assessment;
const defs = checksFromConfig(cfg);
const boot = (trialBoot: boolean, slot = "PARTLABEL=USR-B"): BootState => ({
  backend: "gpt",
  source: "/dev/vda",
  bootedSlot: slot,
  bootedId: slot,
  trialBoot,
  state: trialBoot ? "indeterminate" : "good",
  triesLeft: 0,
  rolledBackFrom: null,
  slots: [],
});

describe("the deadline rule", () => {
  it("counts from the start of userspace, in monotonic milliseconds", () => {
    expect(trialDeadline(2_500_000n, 120_000)).toBe(122_500);
    expect(trialDeadline(0n, 5000)).toBe(5000);
  });
});

describe("planStart", () => {
  it("a trial boot with no status of this boot starts an assessment with the deadline from userspace start", () => {
    const p = planStart(boot(true), undefined, defs, cfg, 3_000_000n, 9000, 1);
    expect(p.mode).toBe("trial");
    expect(p.assessment.deadline).toBe(123_000);
    expect(p.status).toMatchObject({ phase: "assessing", deadlineMonotonicMs: 123_000, done: [] });
    expect(p.actions).toEqual([]);
  });

  it("a normal boot writes the healthy flag at once and has a healthy verdict", () => {
    const p = planStart(boot(false, "PARTLABEL=USR-A"), undefined, defs, cfg, 0n, 100, 1);
    expect(p.mode).toBe("normal");
    expect(p.assessment.verdict).toMatchObject({ verdict: "healthy", reason: "normal boot" });
    expect(p.actions).toEqual([{ type: "flag", which: "healthy", reason: "normal boot" }]);
  });

  it("resumes this boot's assessment for the same slot, keeping its deadline and done record", () => {
    const a = newAssessment("PARTLABEL=USR-B", defs, 50_000, 0, "rollback");
    const prior: DaemonStatus = {
      phase: "assessing",
      slot: "PARTLABEL=USR-B",
      updatedAt: "",
      pid: 9,
      assessment: a,
      done: [],
      notes: [],
    };
    const p = planStart(boot(true), prior, defs, cfg, 99_000_000n, 10, 1);
    expect(p.mode).toBe("resume");
    expect(p.assessment.deadline).toBe(50_000);
  });

  it("resumes a verdict even when the boot state no longer looks like a trial (marked bad, not yet rebooted)", () => {
    const a = newAssessment("PARTLABEL=USR-B", defs, 50_000, 0, "rollback");
    a.verdict = { verdict: "unhealthy", reason: "x", at: 1 };
    const prior: DaemonStatus = {
      phase: "verdict",
      slot: "PARTLABEL=USR-B",
      updatedAt: "",
      pid: 9,
      assessment: a,
      done: ["flag:unhealthy", "hooks:red"],
      notes: [],
    };
    const p = planStart(boot(false), prior, defs, cfg, 0n, 10, 1);
    expect(p.mode).toBe("resume");
    expect(p.actions.map(doneKey)).toEqual(["flag:unhealthy", "hooks:red", "rollback"]);
    expect(p.status.done).toEqual(["flag:unhealthy", "hooks:red"]);
  });

  it("a status file of another slot is not resumed", () => {
    const a = newAssessment("PARTLABEL=USR-A", defs, 50_000, 0, "rollback");
    const prior: DaemonStatus = {
      phase: "assessing",
      slot: "PARTLABEL=USR-A",
      updatedAt: "",
      pid: 9,
      assessment: a,
      done: [],
      notes: [],
    };
    expect(planStart(boot(true), prior, defs, cfg, 0n, 10, 1).mode).toBe("trial");
  });

  it("a normal boot restarted in the same boot keeps its done record (no second flag)", () => {
    const prior: DaemonStatus = {
      phase: "normal",
      slot: "PARTLABEL=USR-A",
      updatedAt: "",
      pid: 9,
      done: ["flag:healthy"],
      notes: [],
    };
    const p = planStart(boot(false, "PARTLABEL=USR-A"), prior, defs, cfg, 0n, 10, 1);
    expect(p.mode).toBe("normal");
    expect(p.status.done).toEqual(["flag:healthy"]);
  });
});

describe("effects and their done-keys", () => {
  it("one key per action, the same for the same action", () => {
    expect(doneKey({ type: "markGood" })).toBe("markGood");
    expect(doneKey({ type: "rollback" })).toBe("rollback");
    expect(doneKey({ type: "flag", which: "unhealthy", reason: "any" })).toBe("flag:unhealthy");
    expect(doneKey({ type: "hooks", which: "green" })).toBe("hooks:green");
  });

  it("a blessing verdict marks good before the flag, so what the flag starts can rely on the mark", () => {
    const a = newAssessment("B", defs, 1, 0, "rollback");
    expect(verdictEffects(a, "degraded", "r").map((e) => e.type)).toEqual([
      "verdict",
      "markGood",
      "flag",
      "hooks",
    ]);
  });
});

describe("checks from the config", () => {
  it("critical and wanted units, flags and failFlags, the same unit once, critical winning", () => {
    const c = configSchema.parse({
      assessment: {
        critical: { units: ["a.service", "a.service"], flags: ["/run/x/ready"] },
        wanted: { units: ["a.service", "b.service"], failFlags: ["/run/x/broken"] },
        noFailedUnits: true,
      },
    }).assessment;
    expect(checksFromConfig(c).map((d) => `${d.id}:${d.critical ? "critical" : "wanted"}`)).toEqual([
      "unit:a.service:critical",
      "flag:/run/x/ready:critical",
      "unit:b.service:wanted",
      "failFlag:/run/x/broken:wanted",
      "noFailedUnits:critical",
    ]);
  });
});

describe("journal records and STATUS=", () => {
  const a = newAssessment("PARTLABEL=USR-B", defs, 130_000, 0, "rollback");
  it("a passed check carries when it came up and when we saw it", () => {
    const r = recordOf(
      {
        type: "check",
        check: { def: defs[0]!, status: "passed", detail: "active (running)", upSince: 7 },
        previous: "settling",
      },
      "B",
      9,
    );
    expect(r).toEqual({
      level: "info",
      fields: {
        MESSAGE_ID: MessageId.checkPassed,
        BOOTWARDEN_SLOT: "B",
        BOOTWARDEN_CHECK: "unit:a.service",
        OBJECT_SYSTEMD_UNIT: "a.service",
        BOOTWARDEN_UP_SINCE_MONOTONIC_MS: 7,
        BOOTWARDEN_SEEN_MONOTONIC_MS: 9,
      },
      msg: "check unit:a.service passed: active (running)",
    });
  });

  it("a verdict's level follows the verdict", () => {
    for (const [v, level] of [
      ["healthy", "info"],
      ["degraded", "warn"],
      ["unhealthy", "error"],
    ] as const)
      expect(recordOf({ type: "verdict", verdict: v, reason: "r" }, "B", 0).level).toBe(level);
  });

  it("STATUS= while assessing, after the verdict, and on a normal boot", () => {
    expect(statusText("assessing", a, 10_000)).toBe(
      "trial boot of PARTLABEL=USR-B: 0/1 critical checks up, 2m0s left",
    );
    expect(statusText("verdict", { ...a, verdict: { verdict: "healthy", reason: "all", at: 1 } }, 0)).toBe(
      "trial boot of PARTLABEL=USR-B: healthy: all",
    );
    expect(statusText("normal", a, 0)).toBe(
      "normal boot of PARTLABEL=USR-B: nothing to assess; watching 1 checks",
    );
  });
});
