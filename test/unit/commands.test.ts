import { describe, expect, it } from "vitest";
import { BootwardenError } from "../../src/base/errors.js";
import { validateConfig } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";
import { checksFromConfig } from "../../src/core/checks.js";
import { commandLabel, TransientNames } from "../../src/core/commands.js";
import { rollbackNotice, trialNotice } from "../../src/core/motd.js";
import { decided, MAX_TRIAL_RECORDS, started, type TrialRecord } from "../../src/core/trial-log.js";
import { observeCommand, type UnitSnapshot } from "../../src/core/unit-rules.js";
import { transientProperties } from "../../src/systemd/transient.js";

const refusal = (raw: object) => {
  try {
    validateConfig(raw, "/etc/bootwarden/config.yaml");
  } catch (err) {
    expect(err).toBeInstanceOf(BootwardenError);
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("command checks in the config", () => {
  it("a command line and the object form, critical and wanted, with directories", () => {
    const c = configSchema.parse({
      assessment: {
        commandTimeout: "2m",
        critical: {
          commands: [
            "curl -fsS http://127.0.0.1:8080/",
            { run: "pg_isready", timeout: "10s", interval: "5s", network: false },
          ],
          directories: ["/etc/greenboot/check/required.d"],
        },
        wanted: { directories: ["/etc/greenboot/check/wanted.d"] },
      },
    });
    const defs = checksFromConfig(c.assessment, {
      critical: [
        {
          file: "/etc/greenboot/check/required.d/01_repo.sh",
          exec: "/etc/greenboot/check/required.d/01_repo.sh",
        },
        // A link: named after itself, run as what it resolved to when it was trusted.
        { file: "/etc/greenboot/check/required.d/probe", exec: "/usr/libexec/checks/probe-v2" },
      ],
      wanted: [
        {
          file: "/etc/greenboot/check/wanted.d/01_repo.sh",
          exec: "/etc/greenboot/check/wanted.d/01_repo.sh",
        },
      ],
    });
    expect(defs.map((d) => [d.id, d.target, d.critical, d.command])).toEqual([
      [
        "command:curl -fsS http://127.0.0.1:8080/",
        "bootwarden-check-critical-curl.service",
        true,
        { argv: ["/bin/sh", "-c", "curl -fsS http://127.0.0.1:8080/"], timeout: 120_000, network: true },
      ],
      [
        "command:pg_isready",
        "bootwarden-check-critical-pg_isready.service",
        true,
        { argv: ["/bin/sh", "-c", "pg_isready"], timeout: 10_000, interval: 5000, network: false },
      ],
      [
        "command:/etc/greenboot/check/required.d/01_repo.sh",
        "bootwarden-check-critical-01_repo.sh.service",
        true,
        {
          argv: ["/bin/bash", "/etc/greenboot/check/required.d/01_repo.sh"],
          timeout: 120_000,
          network: true,
        },
      ],
      [
        "command:/etc/greenboot/check/required.d/probe",
        "bootwarden-check-critical-probe.service",
        true,
        { argv: ["/usr/libexec/checks/probe-v2"], timeout: 120_000, network: true },
      ],
      [
        "command:/etc/greenboot/check/wanted.d/01_repo.sh",
        "bootwarden-check-wanted-01_repo.sh.service",
        false,
        { argv: ["/bin/bash", "/etc/greenboot/check/wanted.d/01_repo.sh"], timeout: 120_000, network: true },
      ],
    ]);
  });

  it("the same command critical and wanted is one critical check", () => {
    const c = configSchema.parse({
      assessment: { critical: { commands: ["true"] }, wanted: { commands: ["true"] } },
    });
    expect(checksFromConfig(c.assessment).map((d) => [d.id, d.critical])).toEqual([["command:true", true]]);
  });

  it("refuses empty commands, unknown keys, relative directories and absurd times, naming the key", () => {
    expect(refusal({ assessment: { critical: { commands: ["  "] } } })).toMatch(
      /assessment\.critical\.commands\.0: /,
    );
    expect(refusal({ assessment: { critical: { commands: [{ run: "x", retries: 3 }] } } })).toMatch(
      /assessment\.critical\.commands\.0: unknown key retries$/,
    );
    expect(refusal({ assessment: { wanted: { directories: ["check/wanted.d"] } } })).toMatch(
      /assessment\.wanted\.directories\.0: must be an absolute path/,
    );
    expect(refusal({ assessment: { critical: { commands: [{ run: "x", timeout: "0s" }] } } })).toMatch(
      /timeout: "0s" is out of range: must be 1s to 1h0m0s/,
    );
    expect(refusal({ assessment: { critical: { commands: [{ run: "x", interval: "9999h" }] } } })).toMatch(
      /interval: "9999h" is out of range/,
    );
    expect(refusal({ hooks: { redDirectories: ["red.d"] } })).toMatch(/hooks\.redDirectories\.0/);
  });
});

describe("transient unit names", () => {
  it("are valid unit names, recognisable, and unique", () => {
    const n = new TransientNames();
    expect(n.name("check-critical", "01 my check!.sh")).toBe(
      "bootwarden-check-critical-01_my_check_.sh.service",
    );
    expect(n.name("check-critical", "x")).toBe("bootwarden-check-critical-x.service");
    expect(n.name("check-critical", "x")).toBe("bootwarden-check-critical-x-2.service");
    expect(n.name("hook-red", "../..")).toBe("bootwarden-hook-red-x.service");
    expect(n.name("hook-red", "ü".repeat(100))).toBe("bootwarden-hook-red-x-2.service");
    expect(commandLabel(["/bin/sh", "-c", "  /usr/bin/curl -f x"])).toBe("curl");
    expect(commandLabel(["/bin/bash", "/etc/x/required.d/10.sh"])).toBe("10.sh");
  });
});

const snap = (over: Partial<UnitSnapshot>): UnitSnapshot => ({
  name: "bootwarden-check-critical-x.service",
  path: "/x",
  loadState: "loaded",
  activeState: "activating",
  subState: "start",
  result: "success",
  type: "oneshot",
  nRestarts: 0,
  activeEnterMonotonic: 0n,
  execMainExitMonotonic: 0n,
  execMainStatus: 0,
  ...over,
});

describe("what a command check's unit says", () => {
  it("running, passed, failed, timed out, killed, retrying", () => {
    expect(observeCommand(snap({}))).toEqual({ kind: "pending", detail: "running (attempt 1)" });
    expect(
      observeCommand(snap({ activeState: "active", subState: "exited", activeEnterMonotonic: 7_000_000n })),
    ).toEqual({ kind: "up", since: 7000, detail: "exited 0" });
    expect(
      observeCommand(
        snap({ activeState: "failed", subState: "failed", result: "exit-code", execMainStatus: 3 }),
      ),
    ).toEqual({ kind: "failed", detail: "exited with status 3" });
    expect(observeCommand(snap({ activeState: "failed", result: "timeout" }))).toEqual({
      kind: "failed",
      detail: "timed out",
    });
    expect(observeCommand(snap({ activeState: "failed", result: "signal", execMainStatus: 9 })).detail).toBe(
      "was killed by signal 9",
    );
    expect(
      observeCommand(
        snap({ subState: "auto-restart", result: "exit-code", execMainStatus: 1, nRestarts: 2 }),
      ),
    ).toEqual({ kind: "pending", detail: "attempt 3 exited with status 1, retrying" });
    // A restart is a retry here, not a crash loop: the unit passing after retries passes.
    expect(observeCommand(snap({ activeState: "active", nRestarts: 4 })).kind).toBe("up");
    expect(observeCommand(snap({ activeState: "activating", nRestarts: 1 })).detail).toBe(
      "running (attempt 2)",
    );
  });
});

describe("login notice and history", () => {
  const a = {
    slot: "PARTLABEL=USR-B",
    deadline: 300_000,
    settle: 0,
    action: "rollback" as const,
    checks: [],
  };
  it("the notice counts whole minutes left, and names the reason after a verdict", () => {
    expect(trialNotice(a, 0)).toBe("bootwarden: trial boot of PARTLABEL=USR-B: verdict pending, 5m left");
    expect(trialNotice(a, 299_000)).toBe(
      "bootwarden: trial boot of PARTLABEL=USR-B: verdict pending, 1m left",
    );
    expect(trialNotice(a, 400_000)).toMatch(/0m left$/);
    expect(trialNotice({ ...a, verdict: { verdict: "healthy", reason: "ok", at: 1 } }, 1)).toBeUndefined();
    expect(trialNotice({ ...a, verdict: { verdict: "unhealthy", reason: "x failed", at: 1 } }, 1)).toBe(
      "bootwarden: trial boot of PARTLABEL=USR-B failed, rolling back: x failed",
    );
    expect(rollbackNotice("USR-B", "deadline passed")).toBe(
      "bootwarden: rolled back from USR-B: deadline passed",
    );
  });

  it("a trial is recorded once per boot; the same actor again changes nothing; another actor adds a line", () => {
    let log: TrialRecord[] = [];
    log = started(log, "b1", "B", "id-B", "t0");
    expect(started(log, "b1", "B", "id-B", "t1")).toBe(log);
    const d = {
      boot: "b1",
      slot: "B",
      verdict: "unhealthy",
      reason: "r",
      by: "daemon" as const,
      decidedAt: "t2",
    };
    log = decided(log, d);
    expect(log).toEqual([{ startedAt: "t0", id: "id-B", ...d }]);
    expect(decided(log, { ...d, decidedAt: "t3" })).toBe(log);
    const op = decided(log, { ...d, verdict: "healthy", by: "operator", decidedAt: "t4" });
    expect(op).toHaveLength(2);
    expect(op[1]).toMatchObject({ by: "operator", verdict: "healthy", startedAt: "t0" });
  });

  it("the history is bounded", () => {
    let log: TrialRecord[] = [];
    for (let i = 0; i < MAX_TRIAL_RECORDS + 10; i++) log = started(log, `b${i}`, "B", "id-B", `t${i}`);
    expect(log).toHaveLength(MAX_TRIAL_RECORDS);
    expect(log[0]?.boot).toBe("b10");
  });
});

describe("checks and the network", () => {
  it("command and script checks start after network-online.target by default, as greenboot's do; opt out per check or for all", () => {
    const specs = (assessment: object) =>
      checksFromConfig(configSchema.parse({ assessment }).assessment, {
        critical: [
          { file: "/etc/greenboot/check/required.d/01.sh", exec: "/etc/greenboot/check/required.d/01.sh" },
        ],
        wanted: [],
      }).map((d) => [d.id, d.command?.network]);
    const critical = { commands: ["curl -fsS http://10.0.0.1/", { run: "local-only", network: false }] };
    expect(specs({ critical })).toEqual([
      ["command:curl -fsS http://10.0.0.1/", true],
      ["command:local-only", false],
      ["command:/etc/greenboot/check/required.d/01.sh", true],
    ]);
    expect(specs({ critical: { commands: ["a", { run: "b", network: true }] }, network: false })).toEqual([
      ["command:a", false],
      ["command:b", true],
      ["command:/etc/greenboot/check/required.d/01.sh", false],
    ]);
  });

  it("the transient unit of a network check carries After= and Wants= network-online.target, others neither", () => {
    const svc = {
      description: "d",
      argv: ["/bin/true"],
      timeoutMs: 1000,
      environment: [],
      remainAfterExit: true,
    };
    const deps = (network: boolean) =>
      transientProperties({ ...svc, network })
        .filter(([k]) => k === "After" || k === "Wants")
        .map(([k, v]) => [k, v.signature, v.value]);
    expect(deps(true)).toEqual([
      ["After", "as", ["network-online.target"]],
      ["Wants", "as", ["network-online.target"]],
    ]);
    expect(deps(false)).toEqual([]);
  });
});
