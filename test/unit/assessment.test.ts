import { describe, expect, it } from "vitest";
import {
  type Assessment,
  type CheckDef,
  type Effect,
  type Event,
  newAssessment,
  nextWakeup,
  step,
} from "../../src/core/assessment.js";
import { observeUnit, type UnitSnapshot } from "../../src/core/unit-rules.js";

const unit = (name: string, critical = true): CheckDef => ({
  id: `unit:${name}`,
  kind: "unit",
  target: name,
  critical,
});
const flag = (file: string, critical = true): CheckDef => ({
  id: `flag:${file}`,
  kind: "flag",
  target: file,
  critical,
});
const failFlag = (file: string): CheckDef => ({
  id: `failFlag:${file}`,
  kind: "failFlag",
  target: file,
  critical: true,
});

/** Drives the machine with a fake clock and collects every effect. */
function run(a: Assessment, events: Event[]) {
  const effects: Effect[] = [];
  let cur = a;
  for (const ev of events) {
    const r = step(cur, ev);
    cur = r.next;
    effects.push(...r.effects);
  }
  return { a: cur, effects, types: effects.filter((e) => e.type !== "check").map((e) => e.type) };
}
const up = (id: string, since: number, now = since): Event => ({
  type: "observed",
  id,
  obs: { kind: "up", since, detail: "active" },
  now,
});
const failed = (id: string, now: number, detail = "failed (exit-code)"): Event => ({
  type: "observed",
  id,
  obs: { kind: "failed", detail },
  now,
});
const tick = (now: number): Event => ({ type: "tick", now });

describe("assessment state machine", () => {
  it("is healthy once every critical check holds: marks good, writes the flag, runs green hooks", () => {
    const a = newAssessment("B", [unit("a.service"), flag("/run/app/ready")], 600_000, 0, "rollback");
    const r = run(a, [up("unit:a.service", 100), tick(200)]);
    expect(r.a.verdict).toBeUndefined();
    const r2 = run(r.a, [up("flag:/run/app/ready", 300)]);
    expect(r2.a.verdict).toMatchObject({ verdict: "healthy", at: 300 });
    expect(r2.types).toEqual(["verdict", "markGood", "flag", "hooks"]);
  });

  it("fails at once when a critical unit fails: unhealthy, flag, red hooks, roll back", () => {
    const a = newAssessment("B", [unit("a.service"), unit("b.service")], 600_000, 0, "rollback");
    const r = run(a, [up("unit:a.service", 10), failed("unit:b.service", 20)]);
    expect(r.a.verdict).toMatchObject({
      verdict: "unhealthy",
      reason: "unit:b.service failed: failed (exit-code)",
    });
    expect(r.types).toEqual(["verdict", "flag", "hooks", "rollback"]);
  });

  it("report-only mode marks nothing and reboots nothing", () => {
    const a = newAssessment("B", [unit("a.service")], 600_000, 0, "report");
    expect(run(a, [failed("unit:a.service", 5)]).types).toEqual(["verdict", "flag", "hooks"]);
  });

  it("rolls back at the deadline, naming what never came up", () => {
    const a = newAssessment("B", [unit("a.service"), unit("slow.service")], 1000, 0, "rollback");
    expect(nextWakeup(a)).toBe(1000);
    const r = run(a, [up("unit:a.service", 100), tick(999)]);
    expect(r.a.verdict).toBeUndefined();
    const r2 = run(r.a, [tick(1000)]);
    expect(r2.a.verdict?.verdict).toBe("unhealthy");
    expect(r2.a.verdict?.reason).toMatch(/deadline passed with unit:slow.service \(waiting\) not healthy/);
  });

  it("holds a unit in settling for the settle time and catches a crash inside it", () => {
    const a = newAssessment("B", [unit("a.service")], 600_000, 30_000, "rollback");
    const r = run(a, [up("unit:a.service", 1000, 1000)]);
    expect(r.a.checks[0]?.status).toBe("settling");
    expect(nextWakeup(r.a)).toBe(31_000);
    const crashed = run(r.a, [failed("unit:a.service", 5000, "restarted 1 time(s)")]);
    expect(crashed.a.verdict?.verdict).toBe("unhealthy");
    const settled = run(r.a, [tick(31_000)]);
    expect(settled.a.verdict?.verdict).toBe("healthy");
  });

  it("a unit that was already up long enough when first seen passes at once", () => {
    const a = newAssessment("B", [unit("a.service")], 600_000, 30_000, "rollback");
    expect(run(a, [up("unit:a.service", 1000, 40_000)]).a.verdict?.verdict).toBe("healthy");
  });

  it("a fail-flag holds until its file appears, and its appearance is unhealthy", () => {
    const a = newAssessment("B", [unit("a.service"), failFlag("/run/app/broken")], 600_000, 0, "rollback");
    const r = run(a, [failed("failFlag:/run/app/broken", 10, "appeared: disk full")]);
    expect(r.a.verdict?.reason).toBe("failFlag:/run/app/broken failed: appeared: disk full");
    const ok = run(a, [up("unit:a.service", 10)]);
    expect(ok.a.verdict?.verdict).toBe("healthy");
  });

  it("a failed wanted check gives a degraded verdict that still blesses", () => {
    const a = newAssessment("B", [unit("a.service"), unit("nice.service", false)], 600_000, 0, "rollback");
    const r = run(a, [failed("unit:nice.service", 5), up("unit:a.service", 10)]);
    expect(r.a.verdict).toMatchObject({
      verdict: "degraded",
      reason: "unit:nice.service: failed (exit-code)",
    });
    expect(r.types).toEqual(["verdict", "markGood", "flag", "hooks"]);
  });

  it("waits for pending wanted checks until the deadline, then blesses as degraded", () => {
    const a = newAssessment("B", [unit("a.service"), unit("nice.service", false)], 1000, 0, "rollback");
    const r = run(a, [up("unit:a.service", 10)]);
    expect(r.a.verdict).toBeUndefined();
    expect(run(r.a, [tick(1000)]).a.verdict?.verdict).toBe("degraded");
  });

  it("never acts twice and never rolls back after the verdict: later failures are only reported", () => {
    const a = newAssessment("B", [unit("a.service")], 1000, 0, "rollback");
    const r = run(a, [up("unit:a.service", 10), tick(2000), failed("unit:a.service", 3000), tick(4000)]);
    expect(r.types).toEqual(["verdict", "markGood", "flag", "hooks", "lateFailure"]);
    expect(r.a.verdict?.verdict).toBe("healthy");
  });

  it("names at most five open checks in a deadline verdict", () => {
    const units = Array.from({ length: 7 }, (_, i) => unit(`u${i}.service`));
    const r = run(newAssessment("B", units, 1000, 0, "rollback"), [tick(1000)]);
    expect(r.a.verdict?.reason).toMatch(/unit:u4\.service \(waiting\), 2 more not healthy$/);
  });

  it("with no checks at all the trial is blessed at the first event", () => {
    expect(run(newAssessment("B", [], 1000, 0, "rollback"), [tick(0)]).a.verdict?.verdict).toBe("healthy");
  });

  it("ignores repeated identical observations", () => {
    const a = newAssessment("B", [unit("a.service"), unit("b.service")], 1000, 0, "rollback");
    const r = run(a, [up("unit:a.service", 10), up("unit:a.service", 10, 20)]);
    expect(r.effects.filter((e) => e.type === "check")).toHaveLength(1);
  });
});

describe("unit observation", () => {
  const snap = (p: Partial<UnitSnapshot>): UnitSnapshot => ({
    name: "a.service",
    path: "/org/freedesktop/systemd1/unit/a_2eservice",
    loadState: "loaded",
    activeState: "inactive",
    subState: "dead",
    result: "success",
    type: "simple",
    nRestarts: 0,
    activeEnterMonotonic: 0n,
    execMainExitMonotonic: 0n,
    execMainStatus: 0,
    ...p,
  });
  it.each([
    [{ loadState: "not-found" }, "failed", "unit does not exist"],
    [{ loadState: "masked" }, "failed", "unit is masked"],
    [{ activeState: "failed", result: "exit-code" }, "failed", "failed (exit-code)"],
    [
      { activeState: "active", subState: "running", nRestarts: 2 },
      "failed",
      "restarted 2 time(s) (active/running)",
    ],
    [
      { activeState: "active", subState: "running", activeEnterMonotonic: 5_000_000n },
      "up",
      "active (running)",
    ],
    [{ activeState: "activating", subState: "start" }, "pending", "activating (start)"],
    [{ type: "oneshot", execMainExitMonotonic: 7_000_000n }, "up", "ran successfully"],
    [{ type: "oneshot" }, "pending", "inactive (dead)"],
  ] as const)("case %# -> %s", (p, kind, detail) => {
    const o = observeUnit(snap(p));
    expect(o.kind).toBe(kind);
    expect(o.detail).toBe(detail);
  });
  it("takes the time a unit became active from systemd's monotonic timestamp", () => {
    const o = observeUnit(snap({ activeState: "active", activeEnterMonotonic: 5_123_456n }));
    expect(o).toMatchObject({ kind: "up", since: 5123 });
  });
  it("a start job that failed on a dependency fails the check", () => {
    expect(observeUnit(snap({}), "dependency")).toMatchObject({ kind: "failed" });
  });
});

describe("the tally", () => {
  // The verdict as it was computed before the tally: a pass over every check per event. The incremental reducer
  // must agree with it on every step of random runs, settle times and deadlines included.
  function naiveVerdict(a: Assessment, now: number): string | undefined {
    const critical = a.checks.filter((c) => c.def.critical);
    const wanted = a.checks.filter((c) => !c.def.critical);
    if (critical.some((c) => c.status === "failed")) return "unhealthy";
    const past = now >= a.deadline;
    if (critical.some((c) => c.status !== "passed")) return past ? "unhealthy" : undefined;
    const bad = wanted.some((c) => c.status === "failed" || (past && c.status !== "passed"));
    const open = wanted.some((c) => c.status === "pending" || c.status === "settling");
    if (bad && (!open || past)) return "degraded";
    if (open && !past) return undefined;
    return "healthy";
  }

  it("agrees with a pass over every check, on every step of random runs", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 200; run++) {
      const defs = Array.from({ length: 1 + rand(12) }, (_, i) => unit(`u${i}.service`, rand(3) > 0));
      let a = newAssessment("B", defs, 1000, rand(2) ? 0 : 50, "rollback");
      let now = 0;
      for (let k = 0; k < 40 && !a.verdict; k++) {
        now += rand(60);
        const d = defs[rand(defs.length)]!;
        const r = rand(10);
        const ev: Event =
          r === 0
            ? { type: "tick", now }
            : {
                type: "observed",
                id: d.id,
                now,
                obs:
                  r < 7
                    ? { kind: "up", since: now - rand(20), detail: "active" }
                    : r < 9
                      ? { kind: "pending", detail: "activating" }
                      : { kind: "failed", detail: "failed" },
              };
        const before = a;
        a = step(a, ev).next;
        const { tally, ...rest } = a;
        expect(tally).toEqual(tallyOfChecks(rest.checks));
        if (!before.verdict) expect(a.verdict?.verdict).toBe(naiveVerdict(a, now));
      }
    }
  });
});

function tallyOfChecks(checks: Assessment["checks"]) {
  const t = {
    critical: { pending: 0, settling: 0, passed: 0, failed: 0 },
    wanted: { pending: 0, settling: 0, passed: 0, failed: 0 },
  };
  for (const c of checks) t[c.def.critical ? "critical" : "wanted"][c.status]++;
  return t;
}
