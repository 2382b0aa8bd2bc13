import { describe, expect, it } from "vitest";
import type { BootState } from "../../src/bootstate/types.js";
import { formatStatus } from "../../src/commands/status-format.js";
import { configSchema } from "../../src/config/schema.js";
import { statusSchema } from "../../src/config/status-schema.js";
import { newAssessment } from "../../src/core/assessment.js";
import { checksFromConfig } from "../../src/core/checks.js";
import type { DaemonStatus } from "../../src/core/status.js";
import { statusJson } from "../../src/core/status-json.js";
import { systemdSpan, systemdTime } from "../../src/core/timestamps.js";

const cfg = configSchema.parse({
  assessment: { deadline: "2m", critical: { units: ["a.service"] }, wanted: { units: ["b.service"] } },
}).assessment;
const defs = checksFromConfig(cfg);
const slots = (bootedState: "good" | "bad" | "indeterminate"): BootState["slots"] => [
  {
    name: "PARTLABEL=USR-A",
    booted: false,
    state: "good",
    detail: { priority: 1, tries: 0, successful: true },
  },
  {
    name: "PARTLABEL=USR-B",
    booted: true,
    state: bootedState,
    detail: { priority: 2, tries: 1, left: null },
  },
];
const trialBoot: BootState = {
  backend: "gpt",
  source: "/dev/vda",
  bootedSlot: "PARTLABEL=USR-B",
  bootedId: "PARTUUID=b",
  trialBoot: true,
  state: "indeterminate",
  triesLeft: 1,
  nextBoot: "PARTLABEL=USR-B",
  rolledBackFrom: null,
  // gptprio's view of the booted slot on its last try (tries 0, not successful) is "bad": the header decides.
  slots: slots("bad"),
};
const assessing = (): DaemonStatus => ({
  phase: "assessing",
  slot: "PARTLABEL=USR-B",
  trialBoot: true,
  updatedAt: "x",
  pid: 7,
  deadlineMonotonicMs: 120_000,
  deadlineRealtimeMs: Date.parse("2026-12-03T06:10:00Z"),
  assessment: { ...newAssessment("PARTLABEL=USR-B", defs, 120_000, 0, "rollback"), try: { n: 1, of: 2 } },
  done: ["flag:healthy"],
  notes: [],
});

describe("status --json, version 1", () => {
  it("during a trial: the schema holds, no internal field, the deadline on the wall clock with the seconds left", () => {
    const out = statusJson(trialBoot, assessing(), 40_000);
    expect(statusSchema.parse(out)).toEqual(out);
    expect(out).toMatchObject({
      version: 1,
      state: "indeterminate",
      try: { n: 1, of: 2 },
      nextBoot: "PARTLABEL=USR-B",
      assessment: { status: "assessing", deadline: { at: "2026-12-03T06:10:00.000Z", secondsLeft: 80 } },
    });
    // One state per slot; unknown figures left out.
    expect(out.slots[1]).toEqual({
      name: "PARTLABEL=USR-B",
      booted: true,
      state: "indeterminate",
      detail: { priority: 2, tries: 1 },
    });
    for (const k of ["done", "tally", "phase", "pid", "deadlineMonotonicMs", "updatedAt"])
      expect(JSON.stringify(out)).not.toContain(`"${k}"`);
  });

  it("after the verdict, on a normal boot, with a daemon error: the schema holds; a normal boot has no assessment", () => {
    const decided = assessing();
    decided.phase = "verdict";
    decided.assessment!.verdict = { verdict: "healthy", reason: "all critical checks passed", at: 9 };
    const d = statusJson(trialBoot, decided, 50_000);
    expect(statusSchema.parse(d).assessment).toMatchObject({
      status: "decided",
      verdict: { verdict: "healthy" },
    });
    expect(d.assessment?.deadline).toBeUndefined();
    const normalBoot = {
      ...trialBoot,
      trialBoot: false,
      state: "good" as const,
      triesLeft: null,
      slots: slots("good"),
    };
    const normal: DaemonStatus = {
      ...assessing(),
      phase: "normal",
      trialBoot: false,
      notes: ["unit:a.service failed"],
    };
    const n = statusJson(normalBoot, normal, 0);
    expect(statusSchema.parse(n)).toEqual(n);
    expect(n.assessment).toBeUndefined();
    expect(formatStatus(n).join("\n")).not.toMatch(/verdict/);
    expect(formatStatus(n)).toContain("state:      good (normal boot: nothing to assess)");
    const broken: DaemonStatus = {
      phase: "config-error",
      updatedAt: "",
      pid: 1,
      done: [],
      notes: [],
      error: "bad key",
    };
    expect(statusSchema.parse(statusJson(trialBoot, broken, 0)).daemonError).toBe("bad key");
  });

  it("a field the schema does not know fails validation (strict)", () => {
    const out = { ...statusJson(trialBoot, assessing(), 0), done: [] };
    expect(() => statusSchema.parse(out)).toThrow(/done/);
  });

  it("the text: header and the booted slot's row agree, the next boot is marked, times in systemd's style", () => {
    const text = formatStatus({ ...statusJson(trialBoot, assessing(), 40_000), os: "Flatcar 4152.2.0" });
    expect(text).toContain("booted:     PARTLABEL=USR-B (Flatcar 4152.2.0)");
    expect(text).toContain("state:      trial boot (try 1 of 2, 1 try left): indeterminate");
    expect(text).toContain("next boot:  PARTLABEL=USR-B");
    expect(text.find((l) => l.startsWith("  * PARTLABEL=USR-B"))).toMatch(
      /indeterminate +next {2}priority=2 tries=1$/,
    );
    expect(text.find((l) => l.startsWith("deadline:"))).toMatch(
      /^deadline: {3}\w{3} 2026-12-0[23] \d\d:\d0:00 \S+; 1min 20s left$/,
    );
    expect(systemdSpan(4 * 60_000 + 2_000)).toBe("4min 2s");
    expect(systemdSpan(90_061_000)).toBe("1d 1h");
    expect(systemdTime(Date.parse("2026-12-02T18:40:42Z"))).toMatch(
      /^\w{3} 2026-12-0[23] \d\d:40:42( \S+)?$/,
    );
  });
});
