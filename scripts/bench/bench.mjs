// npm run bench: bootwarden side by side with the Flatcar tutorial's unit-file design, on the same critical unit and
// the same GPT image, in the same run, under a real systemd (systemd-nspawn). Prints a table and writes
// bench/results.md. Needs root. BENCH_RUNS (default 3) runs per figure; BENCH_IDLE (default 60) seconds of idle.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MessageId } from "../../dist/events.js";
import { EXIT_REBOOT, ensureRootfs, Machine, machineConfig, REPO, requireRoot } from "../e2e/harness.mjs";
import { TUTORIAL_UNITS, tutorialFiles } from "./tutorial-units.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IDLE = Number(process.env.BENCH_IDLE ?? 60);
const SCALES = (process.env.BENCH_SCALES ?? "1,100,1000").split(",").map(Number);
const log = (s) => process.stderr.write(`${s}\n`);

const bootwardenConfig = (units, deadline = "60s") => machineConfig({ units, deadline });

function addFiles(m, files) {
  for (const [rel, text] of Object.entries(files)) {
    const f = path.join(m.dir, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    if (rel.includes("/bin/")) chmodSync(f, 0o755);
  }
}

/** Replaces the e2e test-end unit with the probe (or nothing), and adds the anchor logger both designs share. */
function benchMachine(
  name,
  { mode, config, units = ["app.service"], appDelay = 0, badSlots = [], probe = true, idle = IDLE },
) {
  const m = new Machine(`bench-${name}`).create({
    config: config ?? bootwardenConfig(units),
    appDelay,
    badSlots,
    install: mode === "tutorial" || mode === "none" ? "none" : "script",
  });
  spawnSync("systemctl", [`--root=${m.dir}`, "disable", "test-end.service"], { stdio: "ignore" });
  execFileSync("cp", [
    path.join(REPO, "scripts/bench/probe.mjs"),
    path.join(m.dir, "usr/local/bin/bench-probe.mjs"),
  ]);
  const files = {
    "etc/bench/units": `${units.join("\n")}\n`,
    "etc/systemd/system/bench-anchor.service": `[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo "BENCH userspace=$(systemctl show -P UserspaceTimestampMonotonic)"'\n[Install]\nWantedBy=multi-user.target\n`,
  };
  if (probe) {
    files["etc/systemd/system/bench-probe.service"] =
      `[Unit]\nAfter=multi-user.target\n[Service]\nType=exec\nExecStart=/usr/bin/node /usr/local/bin/bench-probe.mjs ${mode === "tutorial" ? "tutorial" : "bootwarden"} ${idle}\n[Install]\nWantedBy=multi-user.target\n`;
  }
  // Trivial units for the scale figures, started together once the daemon is READY, so that the figure is the
  // daemon's reaction to units coming up, not its start-up.
  const scale = units.filter((u) => u.startsWith("bench-u"));
  for (const u of scale) {
    files[`etc/systemd/system/${u}`] =
      "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n[Install]\nWantedBy=bench-units.target\n";
  }
  if (scale.length) {
    files["etc/systemd/system/bench-units.target"] = "[Unit]\nDescription=Benchmark units\n";
    files["etc/systemd/system/bench-start.service"] =
      "[Unit]\nAfter=bootwarden.service\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'sleep 1; systemctl start bench-units.target'\n[Install]\nWantedBy=multi-user.target\n";
  }
  if (mode === "tutorial") {
    Object.assign(files, tutorialFiles(10));
    execFileSync("cp", ["/usr/bin/cgpt", path.join(m.dir, "usr/bin/cgpt")]);
  }
  addFiles(m, files);
  const enable = [
    "bench-anchor.service",
    ...(probe ? ["bench-probe.service"] : []),
    ...scale,
    ...(scale.length ? ["bench-start.service"] : []),
  ];
  if (mode === "tutorial") enable.push(...TUTORIAL_UNITS);
  execFileSync("systemctl", [`--root=${m.dir}`, "enable", ...enable], { stdio: "ignore" });
  return m;
}

const result = (m) => JSON.parse(m.file("var/lib/bench/result.json") ?? "null");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs, unit, digits = 1) => {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (!ok.length) return "n/a";
  return `${median(ok).toFixed(digits)} ${unit} (${Math.min(...ok).toFixed(digits)}–${Math.max(...ok).toFixed(digits)}, n=${ok.length})`;
};
const rows = [];
const row = (figure, bootwarden, tutorial = "", target = "") => {
  rows.push([figure, bootwarden, tutorial, target]);
  log(`  ${figure}: ${bootwarden}${tutorial ? ` | tutorial: ${tutorial}` : ""}`);
};

async function blessRuns(mode, units, runs, idle = IDLE) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const m = benchMachine(`${mode}-${units.length}`, { mode, units, appDelay: 1, idle });
    m.arm("USR-B");
    const b = await m.boot({ timeoutMs: 240_000 });
    const r = result(m);
    if (!r) throw new Error(`${mode} run ${i}: no result (exit ${b.exit})`);
    out.push(r);
    m.destroy();
  }
  return out;
}

async function rollbackRuns(mode, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const m = benchMachine(`rb-${mode}`, {
      mode,
      config: bootwardenConfig(["app.service"], "10s"),
      appDelay: 100000,
      probe: false,
    });
    m.arm("USR-B");
    const b = await m.boot({ timeoutMs: 240_000 });
    if (b.exit !== EXIT_REBOOT) throw new Error(`${mode} rollback run ${i}: exit ${b.exit}`);
    const j = m.journal(0);
    const anchor = Number(
      /BENCH userspace=(\d+)/.exec(
        j.find((e) => /BENCH userspace=/.test(e.MESSAGE ?? ""))?.MESSAGE ?? "",
      )?.[1],
    );
    const deadlineUs = anchor + 10_000_000;
    const rebootEntry =
      mode === "tutorial"
        ? j.find((e) => /rolling back/.test(e.MESSAGE ?? ""))
        : j.find((e) => e.MESSAGE_ID === MessageId.rebootRequested);
    out.push((Number(rebootEntry?.__MONOTONIC_TIMESTAMP) - deadlineUs) / 1000);
    m.destroy();
  }
  return out;
}

async function startupRuns(mode, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const m = benchMachine(`boot-${mode}`, { mode, probe: false });
    addFiles(m, {
      "etc/systemd/system/bench-off.service":
        "[Unit]\nAfter=multi-user.target\n[Service]\nType=exec\nExecStart=/bin/sh -c 'sleep 3; systemctl poweroff'\n[Install]\nWantedBy=multi-user.target\n",
    });
    spawnSync("systemctl", [`--root=${m.dir}`, "enable", "bench-off.service"], { stdio: "ignore" });
    await m.boot({ timeoutMs: 120_000 });
    const msg = m.journal(0).find((e) => /^Startup finished in/.test(e.MESSAGE ?? ""))?.MESSAGE ?? "";
    const t = /in ([\d.]+)(ms|s)/.exec(msg);
    out.push(t ? Number(t[1]) * (t[2] === "s" ? 1000 : 1) : Number.NaN);
    m.destroy();
  }
  return out;
}

requireRoot();
ensureRootfs(log);
log(`bench: ${RUNS} runs per figure, ${IDLE} s idle`);

log("time to bless (1 critical unit), bootwarden vs the tutorial's units");
const bw = await blessRuns("bootwarden", ["app.service"], RUNS);
const tut = await blessRuns("tutorial", ["app.service"], RUNS);
const flag = (rs) => rs.map((r) => (r.flagUs - r.lastActiveUs) / 1000);
const disk = (rs) => rs.map((r) => (r.diskUs - r.lastActiveUs) / 1000);
row(
  "time to healthy flag after the last critical unit is active",
  fmt(flag(bw), "ms"),
  fmt(flag(tut), "ms"),
  "≤ 20 ms",
);
row(
  "time to slot marked good on disk after it",
  fmt(disk(bw), "ms"),
  fmt(
    disk(tut).map((x) => x / 1000),
    "s",
    2,
  ),
  "≤ 20 ms",
);

log("time to roll back after the deadline");
row(
  "deadline -> reboot requested",
  fmt(await rollbackRuns("bootwarden", RUNS), "ms"),
  fmt(
    (await rollbackRuns("tutorial", RUNS)).map((x) => x / 1000),
    "s",
    2,
  ),
  "≤ 200 ms",
);

log("daemon cost");
row(
  "exec -> READY=1",
  fmt(
    bw.map((r) => (r.readyUs - r.execUs) / 1000),
    "ms",
  ),
  "",
  "≤ 300 ms",
);
row(
  "CPU time from start to verdict",
  fmt(
    bw.map((r) => r.cpuToVerdictMs),
    "ms",
  ),
);
row(
  "peak RSS",
  fmt(
    bw.map((r) => r.peakRss / 2 ** 20),
    "MiB",
  ),
);
row(
  `steady RSS after ${IDLE} s idle`,
  fmt(
    bw.map((r) => r.steadyRss / 2 ** 20),
    "MiB",
  ),
  "",
  "< 60 MB",
);
row(
  `CPU time over ${IDLE} s idle after the verdict`,
  fmt(
    bw.map((r) => r.idleCpuMs),
    "ms",
    2,
  ),
  "",
  "≈ 0",
);

for (const n of SCALES) {
  log(`scale: ${n} critical units`);
  const units = Array.from({ length: n }, (_, i) => `bench-u${i + 1}.service`);
  const rs = await blessRuns("bootwarden", units, RUNS, 0);
  row(
    `${n} units: time to slot marked good after the last is active`,
    fmt(disk(rs), "ms"),
    "",
    n === 1000 ? "≤ 100 ms" : "≤ 20 ms",
  );
  row(
    `${n} units: peak RSS`,
    fmt(
      rs.map((r) => r.peakRss / 2 ** 20),
      "MiB",
    ),
  );
}

log("boot impact");
row(
  "container startup (systemd 'Startup finished'), with bootwarden",
  fmt(await startupRuns("bootwarden", RUNS), "ms"),
  "",
  "",
);
row("container startup, without bootwarden", fmt(await startupRuns("none", RUNS), "ms"), "", "");

const cpu = os.cpus()[0]?.model ?? "unknown";
const header = `# bootwarden benchmarks

Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}.
Date: ${new Date().toISOString()}. Command: \`npm run bench\` (BENCH_RUNS=${RUNS}, BENCH_IDLE=${IDLE}).
Figures: median (min–max, n). Every figure comes from real boots of a Debian 12 container with systemd as PID 1
(systemd-nspawn); "tutorial" is the Flatcar tutorial's unit-file design run in the same way, in the same run.

| figure | bootwarden | tutorial units | target |
|---|---|---|---|
`;
const table = rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
mkdirSync(path.join(REPO, "bench"), { recursive: true });
writeFileSync(path.join(REPO, "bench/results.md"), `${header}${table}\n`);
process.stdout.write(`${header}${table}\n`);
