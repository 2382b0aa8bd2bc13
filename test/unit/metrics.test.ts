import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TextfileMetrics } from "../../src/actions/metrics.js";
import { labelValue, renderMetrics } from "../../src/core/metrics.js";
import type { DaemonStatus } from "../../src/core/status.js";

const trial: DaemonStatus = {
  phase: "assessing",
  slot: 'PARTLABEL=USR-"B"',
  backend: "gpt",
  trialBoot: true,
  triesLeft: 1,
  deadlineRealtimeMs: 1_796_000_000_000,
  updatedAt: "",
  pid: 1,
  done: [],
  notes: [],
  assessment: {
    slot: "B",
    deadline: 1,
    settle: 0,
    action: "rollback",
    checks: [
      {
        def: { id: "unit:a\\b.service", kind: "unit", target: "a", critical: true },
        status: "passed",
        detail: "",
      },
      {
        def: { id: "flag:/run/x", kind: "flag", target: "/run/x", critical: false },
        status: "pending",
        detail: "",
      },
    ],
  },
};
const render = (s: DaemonStatus) =>
  renderMetrics({ version: "1.2.3", status: s, rollbacks: 2, blessings: 5 });
const samples = (t: string) => t.split("\n").filter((l) => l && !l.startsWith("#"));

describe("metrics", () => {
  it("a trial: info, pending verdict, tries, deadline, one line per check, the counters; label values escaped", () => {
    expect(samples(render(trial))).toEqual([
      'bootwarden_info{version="1.2.3",backend="gpt",booted_slot="PARTLABEL=USR-\\"B\\""} 1',
      "bootwarden_up 1",
      "bootwarden_trial_boot 1",
      'bootwarden_verdict{verdict="pending"} 1',
      'bootwarden_verdict{verdict="healthy"} 0',
      'bootwarden_verdict{verdict="degraded"} 0',
      'bootwarden_verdict{verdict="unhealthy"} 0',
      "bootwarden_tries_left 1",
      "bootwarden_trial_deadline_timestamp_seconds 1796000000",
      'bootwarden_check_up{check="unit:a\\\\b.service",kind="unit",critical="true"} 1',
      'bootwarden_check_up{check="flag:/run/x",kind="flag",critical="false"} 0',
      "bootwarden_rollbacks_total 2",
      "bootwarden_blessings_total 5",
    ]);
    expect(labelValue("a\nb")).toBe("a\\nb");
  });

  it("no timestamps on any sample, HELP and TYPE once per metric", () => {
    const t = render(trial);
    for (const l of samples(t)) expect(l).toMatch(/^[a-z_]+(\{.*\})? -?[0-9.e+]+$/);
    expect(t.match(/^# TYPE bootwarden_verdict gauge$/gm)).toHaveLength(1);
    expect(t).toMatch(/^# TYPE bootwarden_rollbacks_total counter$/m);
  });

  it("a daemon that cannot assess is down, with no verdict", () => {
    const t = render({ phase: "config-error", updatedAt: "", pid: 1, done: [], notes: [], error: "x" });
    expect(samples(t)).toContain("bootwarden_up 0");
    expect(t).not.toMatch(/bootwarden_verdict/);
  });
});

describe("TextfileMetrics", () => {
  let dir: string;
  const notes: string[] = [];
  const records = { counters: async () => ({ rollbacks: 0, blessings: 1 }), history: async () => [] };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "bw-metrics-"));
    notes.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes bootwarden.prom 0644, and rewrites it only when the text changes", async () => {
    const m = new TextfileMetrics(dir, records, (n) => notes.push(n));
    await m.update(trial);
    const file = path.join(dir, "bootwarden.prom");
    expect(lstatSync(file).mode & 0o777).toBe(0o644);
    writeFileSync(file, "changed by hand\n");
    await m.update({ ...trial, updatedAt: "later" });
    expect(readFileSync(file, "utf8")).toBe("changed by hand\n"); // the same metrics: not rewritten
    await m.update({ ...trial, triesLeft: 0 });
    expect(readFileSync(file, "utf8")).toMatch(/^bootwarden_tries_left 0$/m);
  });

  it("a missing directory is said once and nothing is created", async () => {
    const m = new TextfileMetrics(path.join(dir, "none"), records, (n) => notes.push(n));
    await m.update(trial);
    await m.update(trial);
    expect(notes).toEqual([
      `no metrics written: ${path.join(dir, "none")} is not a directory (is node-exporter installed?)`,
    ]);
    expect(() => lstatSync(path.join(dir, "none"))).toThrow();
  });

  it("a symlink planted as bootwarden.prom is replaced, never written through", async () => {
    const victim = path.join(dir, "victim");
    writeFileSync(victim, "root's file\n");
    mkdirSync(path.join(dir, "textfile"));
    symlinkSync(victim, path.join(dir, "textfile/bootwarden.prom"));
    await new TextfileMetrics(path.join(dir, "textfile"), records, () => undefined).update(trial);
    expect(readFileSync(victim, "utf8")).toBe("root's file\n");
    expect(lstatSync(path.join(dir, "textfile/bootwarden.prom")).isFile()).toBe(true);
    expect(() => readlinkSync(path.join(dir, "textfile/bootwarden.prom"))).toThrow();
  });
});
