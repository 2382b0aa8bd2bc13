// npm run bench: bootwarden side by side with the Flatcar tutorial's unit-file design, installed together and timed
// on the same boots of a real systemd (systemd-nspawn), one critical unit while 0, 300 and 1000 unrelated units start
// right after it; bootwarden on the host's Node (installed from dist/) and on the LTS Node the system extension
// bundles. Prints a table and writes bench/results.md. Needs root.
// BENCH_QUICK=1: one run per figure, no quiet boots with unrelated units (the busy boot has its thousand), a short
// idle: a reduced table in about 7 minutes (what CI prints).
// BENCH_RUNS (default 3), BENCH_IDLE (default 60 s), BENCH_UNRELATED (default 0,300,1000) override.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MessageId } from "../../dist/base/message-ids.js";
import {
  EXIT_REBOOT,
  ensureRootfs,
  Machine,
  machineConfig,
  REPO,
  requireRoot,
  sysextImage,
} from "../lib/harness.mjs";
import { addFiles, bootOnce, enable, RUNTIMES } from "./machine.mjs";
import { vmMemory } from "./vm-memory.mjs";

const QUICK = process.env.BENCH_QUICK === "1";
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
// 30 s in the reduced run: a shorter window says little about the idle minute.
const IDLE = Number(process.env.BENCH_IDLE ?? (QUICK ? 30 : 60));
const UNRELATED = (process.env.BENCH_UNRELATED ?? (QUICK ? "0" : "0,300,1000")).split(",").map(Number);
const log = (s) => process.stderr.write(`${s}\n`);
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs, unit, digits = 1) => {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (!ok.length) return "n/a";
  const range =
    ok.length > 1 ? ` (${Math.min(...ok).toFixed(digits)}–${Math.max(...ok).toFixed(digits)})` : "";
  return `${median(ok).toFixed(digits)} ${unit}${range}`;
};
const ms = (a, b) => (a == null || b == null ? Number.NaN : (a - b) / 1000);
/** Bytes to MB; a figure the probe could not read (null in its JSON) stays n/a, never 0. */
const mb = (bytes) => (bytes == null ? Number.NaN : bytes / 1e6);
const rows = [];
const row = (figure, cells, target = "") => {
  rows.push([figure, ...cells, target]);
  log(`  ${figure}: ${cells.join(" | ")}`);
};

requireRoot();
ensureRootfs(log);
log(
  `bench: ${RUNS} run(s) per figure, ${IDLE} s idle, unrelated units: ${UNRELATED.join(", ")}${QUICK ? " (quick)" : ""}`,
);

// Every boot: [runtime][unrelated] -> results. The idle period only in the runs without unrelated units.
const res = {};
for (const rt of RUNTIMES) {
  res[rt.key] = {};
  for (const n of UNRELATED) {
    log(`one critical unit, ${n} unrelated units starting right after it, ${rt.label}`);
    res[rt.key][n] = [];
    for (let i = 0; i < RUNS; i++)
      res[rt.key][n].push(
        await bootOnce(`${rt.key}-${n}`, { runtime: rt, unrelated: n, idle: n === 0 ? IDLE : 0 }),
      );
  }
}
// cgroup v2 figures from a QEMU guest: full runs only (three boots, about 2.5 min per runtime under TCG), or BENCH_VM=1.
const VM = process.env.BENCH_VM === "1" || (!QUICK && process.env.BENCH_VM !== "0");
const vm = VM
  ? vmMemory(
      RUNTIMES.map((rt) => rt.key),
      IDLE,
      log,
    )
  : {};
/** A guest figure in MB per runtime (one boot each), "n/a" where the guest did not report it. */
const vmCell = (name) => (key) => [mb(vm[key]?.[name] ?? null)];
/** The guest kernel's transparent huge pages setting (Debian's: always; the container's host may differ). */
const guestThp = Object.values(vm).find((v) => typeof v?.thp === "string")?.thp ?? "n/a";
const pick = (key, n, f) => res[key][n].map(f);
/**
 * One cell per runtime, and the empty tutorial cell. A cell may hold several figures side by side ("a / b"); each
 * part is [the runtime's values (key -> numbers), unit, digits].
 */
const perRuntimeJoined = (...parts) => [
  ...RUNTIMES.map((rt) =>
    parts.map(([values, unit, digits = 1]) => fmt(values(rt.key), unit, digits)).join(" / "),
  ),
  "",
];
/** One figure per runtime from the runs without unrelated units. */
const perRuntime = (f, unit, digits = 1) => perRuntimeJoined([(key) => pick(key, 0, f), unit, digits]);
/** Active -> the unit gated on the healthy flag started (systemd's clock), for bootwarden and for the tutorial. */
const flag = (r) => ms(r.gatedUs, r.lastActiveUs);
const tutFlag = (r) => ms(r.tutorialGatedUs, r.lastActiveUs);
/** Active -> the mark on disk (the daemon's clock after its last sync). */
const mark = (r) => ms(r.markedUs, r.lastActiveUs);
const allTut = (n, f = tutFlag) => RUNTIMES.flatMap((rt) => pick(rt.key, n, f));
for (const n of UNRELATED)
  row(
    `healthy flag after the critical unit is active, until the unit gated on it starts, ${n} unrelated units`,
    [...RUNTIMES.map((rt) => fmt(pick(rt.key, n, flag), "ms")), fmt(allTut(n), "ms")],
    "≤ the tutorial's",
  );
// The flag files' own mtimes: the kernel's coarse clock, up to a tick (4 ms here) early, hence below the mark.
for (const n of UNRELATED)
  row(`  the flag file's mtime (kernel's coarse clock), ${n} unrelated units`, [
    ...RUNTIMES.map((rt) =>
      fmt(
        pick(rt.key, n, (r) => ms(r.flagUs, r.lastActiveUs)),
        "ms",
      ),
    ),
    fmt(
      allTut(n, (r) => ms(r.tutorialFlagUs, r.lastActiveUs)),
      "ms",
    ),
  ]);
for (const n of UNRELATED)
  row(
    `slot marked good (written and synced) after the critical unit is active, ${n} unrelated units`,
    [
      ...RUNTIMES.map((rt) => fmt(pick(rt.key, n, mark), "ms")),
      "45 s by design (update_engine marks 45 s after it starts)",
    ],
    "≤ 15 ms",
  );
for (const n of UNRELATED)
  row(`  the disk image's mtime (its last write, before the final sync), ${n} unrelated units`, [
    ...RUNTIMES.map((rt) =>
      fmt(
        pick(rt.key, n, (r) => ms(r.diskUs, r.lastActiveUs)),
        "ms",
      ),
    ),
    "",
  ]);
// The mark split in two: systemd's signal reaching the daemon (and the decision, microseconds), then the write and
// its syncs; and the image's own mtime (its last write, before the last sync).
for (const n of UNRELATED)
  row(
    `  of which: active -> verdict decided / verdict -> marked, ${n} unrelated units`,
    perRuntimeJoined(
      [(key) => pick(key, n, (r) => ms(r.decidedUs, r.lastActiveUs)), "ms"],
      [(key) => pick(key, n, (r) => ms(r.markedUs, r.decidedUs)), "ms"],
    ),
  );
const top = Math.max(...UNRELATED);
if (top > 0) {
  row(
    `extra delay to the mark with ${top} unrelated units (median minus median)`,
    [
      ...RUNTIMES.map((rt) => fmt([median(pick(rt.key, top, mark)) - median(pick(rt.key, 0, mark))], "ms")),
      "",
    ],
    "≤ 15 ms",
  );
  row(
    `extra CPU with ${top} unrelated units, from exec to 10 s after the verdict (median minus median; the verdict's actions and the heap's one collection are in both)`,
    [
      ...RUNTIMES.map((rt) =>
        fmt(
          [
            median(pick(rt.key, top, (r) => r.cpuToTenAfterVerdictMs)) -
              median(pick(rt.key, 0, (r) => r.cpuToTenAfterVerdictMs)),
          ],
          "ms",
        ),
      ),
      "",
    ],
    "≤ 50 ms",
  );
}
row(
  "CPU time from exec to the verdict, 0 unrelated units",
  perRuntime((r) => r.cpuToVerdictMs, "ms"),
);
for (const n of UNRELATED)
  row(
    `CPU time from exec to 10 s after the verdict, ${n} unrelated units`,
    RUNTIMES.map((rt) =>
      fmt(
        pick(rt.key, n, (r) => r.cpuToTenAfterVerdictMs),
        "ms",
      ),
    ).concat(""),
  );
row(
  "exec -> READY=1",
  perRuntime((r) => ms(r.readyUs, r.execUs), "ms"),
  "≤ 150 ms",
);
row(
  "  of which: exec -> the daemon's first journal record (bus connected, config and boot state read) / -> READY=1 (watchers subscribed, first reads)",
  perRuntimeJoined(
    [(key) => pick(key, 0, (r) => ms(r.firstRecordUs, r.execUs)), "ms"],
    [(key) => pick(key, 0, (r) => ms(r.readyUs, r.firstRecordUs)), "ms"],
  ),
);
row(
  `steady RSS after ${IDLE} s idle`,
  perRuntime((r) => r.steadyRss / 1e6, "MB"),
);
row(
  `steady RssAnon after ${IDLE} s idle`,
  perRuntime((r) => r.steadyRssAnon / 1e6, "MB"),
  "≤ 15 MB",
);
row(
  `steady PSS after ${IDLE} s idle`,
  perRuntime((r) => mb(r.steadyPss), "MB"),
);
row(
  `bootwarden.service's cgroup memory.current after ${IDLE} s idle (systemd-nspawn; n/a on a cgroup v1 host)`,
  perRuntime((r) => mb(r.steadyCgroupMemory), "MB"),
  "≤ 30 MB",
);
row(
  `cgroup v2 guest under QEMU (Debian 12, systemd 252; one trial boot): bootwarden.service's memory.current / its anon / its file pages (the node binary's page cache, charged to the first reader) after ${IDLE} s idle`,
  perRuntimeJoined(
    [vmCell("bootwarden.current"), "MB"],
    [vmCell("bootwarden.anon"), "MB"],
    [vmCell("bootwarden.file"), "MB"],
  ),
  "≤ 30 MB",
);
row(
  `  the same guest: the daemon's RssAnon / Pss / of its RssAnon, transparent huge pages (AnonHugePages; the guest's THP setting: ${guestThp})`,
  perRuntimeJoined(
    [vmCell("bootwarden.rssAnon"), "MB"],
    [vmCell("bootwarden.pss"), "MB"],
    [vmCell("bootwarden.anonHuge"), "MB"],
  ),
);
row(
  "  bound: a bare node of the same binary with a 15 s timer, started after the verdict, same guest: memory.current / anon / file",
  perRuntimeJoined(
    [vmCell("bench-bare-node.current"), "MB"],
    [vmCell("bench-bare-node.anon"), "MB"],
    [vmCell("bench-bare-node.file"), "MB"],
  ),
);
row(
  "  bound: a bare node as the binary's first reader (a third boot of the same guest, bootwarden's units masked, 15 s after its start): memory.current / anon / file; the binary's pages in the page cache at the end of bootwarden's boot",
  perRuntimeJoined(
    [vmCell("bench-first-node.current"), "MB"],
    [vmCell("bench-first-node.anon"), "MB"],
    [vmCell("bench-first-node.file"), "MB"],
    [vmCell("binaryCached"), "MB"],
  ),
);
row(
  "RSS / RssAnon when the verdict is in (the daemon collects its heap 6 s later)",
  perRuntimeJoined(
    [(key) => pick(key, 0, (r) => r.verdictRss / 1e6), "MB"],
    [(key) => pick(key, 0, (r) => r.verdictRssAnon / 1e6), "MB"],
  ),
);
row(
  `steady RssFile after ${IDLE} s idle (file pages mapped: the node binary's, the libraries')`,
  perRuntime((r) => r.steadyRssFile / 1e6, "MB"),
);
row(
  "CPU in the 10 s after the verdict (its actions after the mark; 6 s later the heap's one collection)",
  perRuntime((r) => r.afterVerdictCpuMs, "ms", 2),
);
row(
  `idle CPU after the verdict, per 60 s (measured over ${IDLE} s, from 10 s after the verdict)`,
  perRuntime((r) => (r.idleCpuMs * 60) / r.idleSeconds, "ms", 2),
  "≤ 5 ms",
);

// Idle figures per 60 s of the measured window, from the runs without unrelated units.
const perMinute = (f) => (key) => pick(key, 0, (r) => (f(r) * 60) / r.idleSeconds);
const otherThreads = (t) => Object.entries(t).reduce((s, [k, v]) => (k === "main" ? s : s + v), 0);
row(
  "idle CPU per 60 s: node's main thread / its other threads (V8's workers, libuv's pool)",
  perRuntimeJoined(
    [perMinute((r) => r.idleCpuByThreadMs?.main ?? 0), "ms", 2],
    [perMinute((r) => otherThreads(r.idleCpuByThreadMs ?? {})), "ms", 2],
  ),
);
row(
  "idle: wake-ups of node's main thread / minor page faults, per 60 s",
  perRuntimeJoined(
    [perMinute((r) => r.idleWakeups), "wake-ups", 0],
    [perMinute((r) => r.idleMinorFaults), "faults", 0],
  ),
);
const bareIdle = (f) => perMinute((r) => (r.bareIdle ? f(r.bareIdle) : Number.NaN));
row(
  "idle: the daemon's watchdog timeout, as systemd has it (WatchdogUSec; the unit says 30 s); it pings at half of it",
  perRuntime((r) => r.watchdogUsec / 1e6, "s", 0),
);
row(
  "bound: bare node of the same binary whose only work is a timer at the daemon's ping period (above), same window: main thread's CPU / wake-ups per 60 s",
  perRuntimeJoined([bareIdle((b) => b.cpuMs), "ms", 2], [bareIdle((b) => b.wakeups), "wake-ups", 0]),
);
/** The node binary's resident pages (kB) in the segments whose permissions start with `perm` ("" for all). */
const binaryKb = (r, perm = "") =>
  Object.entries(r.rssByMappingKb ?? {})
    .filter(([k]) => k.startsWith(`${r.execPath} ${perm}`))
    .reduce((sum, [, kb]) => sum + kb, 0) || Number.NaN;
row(
  "resident memory of the node binary's own pages (file-backed, part of RSS): all / its code (r-x) / its read-only data (r--: V8's snapshot, ICU's data)",
  perRuntimeJoined(
    [(key) => pick(key, 0, (r) => binaryKb(r) / 1e3), "MB"],
    [(key) => pick(key, 0, (r) => binaryKb(r, "r-x") / 1e3), "MB"],
    [(key) => pick(key, 0, (r) => binaryKb(r, "r--") / 1e3), "MB"],
  ),
);

// The bound Node itself sets, measured by the probe in the same containers: a bare process of the same binary
// from the same mount (the bundled Node from the system extension's squashfs), no sandbox.
const bare = (f) => (key) => pick(key, 0, (r) => (r.bare ? f(r.bare) : Number.NaN));
row(
  "bound: bare `node -e 0` of the same binary, start to exit, in the same container",
  perRuntimeJoined([bare((b) => median(b.startMs)), "ms"]),
);
// systemd's own part of exec -> READY=1, measured by the probe after each boot: transient services with
// bootwarden.service's sandbox whose main process only sends READY=1.
const ready = (f) => (key) => pick(key, 0, (r) => (r.sandboxReady ? median(f(r.sandboxReady)) : Number.NaN));
row(
  "bound: systemd's exec -> READY=1 under bootwarden.service's sandbox: `systemd-notify --ready` as the main process / without the sandbox",
  perRuntimeJoined([ready((x) => x.notifyMs), "ms"], [ready((x) => x.plainNotifyMs), "ms"]),
);
row(
  "bound: the same sandbox, a bare process of the same node binary sending READY=1 through the daemon's native module",
  perRuntimeJoined([ready((x) => x.nodeMs), "ms"]),
);
row(
  "bound: bare node idling 1 s, same binary, same container: RSS / RssAnon / the binary's pages / their code (r-x) / their read-only data (r--)",
  perRuntimeJoined(
    [bare((b) => b.rss / 1e6), "MB"],
    [bare((b) => b.anon / 1e6), "MB"],
    [bare((b) => b.bin / 1e6), "MB"],
    [bare((b) => (b.binCode ?? Number.NaN) / 1e6), "MB"],
    [bare((b) => (b.binData ?? Number.NaN) / 1e6), "MB"],
  ),
);

// A busy boot: 1000 unrelated units that end between 3.9 and 4.1 s after their start, started with app.service, which
// becomes active 4 s after its own: their signals straddle the critical unit's activation.
const BUSY = 1000;
log(`a busy boot: ${BUSY} unrelated units ending around the critical unit's activation`);
const busy = {};
for (const rt of RUNTIMES) {
  busy[rt.key] = [];
  for (let i = 0; i < RUNS; i++)
    busy[rt.key].push(await bootOnce(`busy-${rt.key}`, { runtime: rt, unrelated: BUSY, busy: true }));
}
const allBusyTut = () => RUNTIMES.flatMap((rt) => busy[rt.key].map(tutFlag));
row(
  `busy boot (${BUSY} unrelated units ending ±100 ms around it): healthy flag after the critical unit is active, until the unit gated on it starts`,
  [...RUNTIMES.map((rt) => fmt(busy[rt.key].map(flag), "ms")), fmt(allBusyTut(), "ms")],
  "≤ the tutorial's",
);
row("  busy boot: the flag file's mtime (kernel's coarse clock): bootwarden's / the tutorial chain's", [
  ...RUNTIMES.map((rt) =>
    fmt(
      busy[rt.key].map((r) => ms(r.flagUs, r.lastActiveUs)),
      "ms",
    ),
  ),
  fmt(
    RUNTIMES.flatMap((rt) => busy[rt.key].map((r) => ms(r.tutorialFlagUs, r.lastActiveUs))),
    "ms",
  ),
]);
row(
  `busy boot: slot marked good after the critical unit is active`,
  [...RUNTIMES.map((rt) => fmt(busy[rt.key].map(mark), "ms")), ""],
  "≤ 15 ms",
);
/** A part of a perRuntimeJoined cell: a figure of each runtime's busy boots, in ms. */
const busyMs = (f) => [(key) => busy[key].map(f), "ms"];
// Where the daemon's start fell: PID 1 starts its job behind the thousand units', often just before the critical unit
// is active, so the verdict comes from its first read of the unit, not from a signal (README, Where the time goes).
row(
  "  busy boot: the daemon's exec / its READY, against the critical unit's activation",
  perRuntimeJoined(
    busyMs((r) => ms(r.execUs, r.lastActiveUs)),
    busyMs((r) => ms(r.readyUs, r.lastActiveUs)),
  ),
);
row(
  "  busy boot, of which: active -> verdict decided (systemd's signal, or the daemon's first read of the unit if it starts later) / verdict -> marked",
  perRuntimeJoined(
    busyMs((r) => ms(r.decidedUs, r.lastActiveUs)),
    busyMs((r) => ms(r.markedUs, r.decidedUs)),
  ),
);

const CRIT = QUICK ? 300 : 1000;
log(`${CRIT} critical units`);
const crit = {};
for (const rt of RUNTIMES) {
  crit[rt.key] = [];
  for (let i = 0; i < RUNS; i++) {
    const units = Array.from({ length: CRIT }, (_, k) => `bench-u${k + 1}.service`);
    crit[rt.key].push(await bootOnce(`crit-${rt.key}`, { runtime: rt, critical: units }));
  }
}
row(
  `${CRIT} critical units: last active -> slot marked good`,
  [...RUNTIMES.map((rt) => fmt(crit[rt.key].map(mark), "ms")), ""],
  "≤ 200 ms",
);
row(`${CRIT} critical units: peak RSS`, [
  ...RUNTIMES.map((rt) =>
    fmt(
      crit[rt.key].map((r) => r.peakRss / 1e6),
      "MB",
    ),
  ),
  "",
]);

if (!QUICK) {
  log("time to roll back after the deadline");
  const rollback = async (rt) => {
    const out = [];
    for (let i = 0; i < RUNS; i++) {
      const m = new Machine(`bench-rb-${rt.key}`).create({
        config: machineConfig({ deadline: "10s" }),
        appDelay: 100000,
        install: rt.install,
        ...(rt.install === "sysext" ? { image: sysextImage() } : {}),
      });
      spawnSync("systemctl", [`--root=${m.dir}`, "disable", "test-end.service"], { stdio: "ignore" });
      addFiles(m, {
        "etc/systemd/system/bench-anchor.service": `[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo "BENCH userspace=$(systemctl show -P UserspaceTimestampMonotonic)"'\n[Install]\nWantedBy=multi-user.target\n`,
      });
      enable(m, ["bench-anchor.service"]);
      m.arm("USR-B");
      const b = await m.boot({ timeoutMs: 240_000 });
      if (b.exit !== EXIT_REBOOT) throw new Error(`rollback run: exit ${b.exit}`);
      const j = m.journal(0);
      const anchor = Number(
        /BENCH userspace=(\d+)/.exec(
          j.find((e) => /BENCH userspace=/.test(e.MESSAGE ?? ""))?.MESSAGE ?? "",
        )?.[1],
      );
      const reboot = j.find((e) => e.MESSAGE_ID === MessageId.rebootRequested);
      out.push((Number(reboot?.__MONOTONIC_TIMESTAMP) - anchor - 10_000_000) / 1000);
      m.destroy();
    }
    return out;
  };
  row(
    "deadline -> reboot requested",
    [
      ...(await Promise.resolve().then(async () => {
        const cells = [];
        for (const rt of RUNTIMES) cells.push(fmt(await rollback(rt), "ms"));
        return cells;
      })),
      "OnStartupSec= timer: up to 1 min late (AccuracySec default)",
    ],
    "≤ 200 ms",
  );
}

const cpu = os.cpus()[0]?.model ?? "unknown";
const commit =
  spawnSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim() ||
  "unknown";
/** The kernel's transparent huge pages setting: under "always" anonymous memory may be backed by 2 MB pages. */
const thp = (() => {
  try {
    return (
      /\[(\w+)\]/.exec(readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8"))?.[1] ?? "n/a"
    );
  } catch {
    return "n/a";
  }
})();
const header = `# bootwarden benchmarks

Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()} (transparent huge pages: ${thp}); host Node ${process.version}, bundled LTS Node from packaging/runtime.
Date: ${new Date().toISOString()}. Code: commit ${commit}. Command: \`${QUICK ? "BENCH_QUICK=1 " : ""}npm run bench\` (BENCH_RUNS=${RUNS}, BENCH_IDLE=${IDLE}).
Figures: median (min–max) of ${RUNS} run(s). Every figure comes from real boots of a Debian 12 container with systemd 252
as PID 1 (systemd-nspawn) in which bootwarden and the Flatcar tutorial's units run side by side, on the same boots.
Each measured trial boot follows one normal boot of the same machine, as after a real update (bootwarden's config
cache and Node's compile cache are warm; the tutorial has nothing to warm).
The tutorial column holds the tutorial's figure from every boot of the row (both runtimes' boots).
Times come from systemd's clock (unit timestamps) and, for the mark, the daemon's own (its journal record, taken
after the last sync); the files' mtimes (the kernel's coarse clock, up to a tick early) are shown apart.

| figure | ${RUNTIMES.map((r) => r.label).join(" | ")} | tutorial units | target |
|---|---|---|---|---|
`;
const table = rows.map((r) => `| ${r.join(" | ")} |`).join("\n");

// The performance issue's targets against this run's medians, per runtime: met, or missed with the figure (and the
// bound Node itself sets, measured above, where there is one).
const m0 = (key, f) => median(pick(key, 0, f));
const verdictCell = (value, target, unit, bound) =>
  Number.isFinite(value)
    ? `${value.toFixed(1)} ${unit}: ${value <= target ? "met" : "missed"}${bound ? ` (bound: ${bound})` : ""}`
    : "n/a: not measured on this host";
const targetRows = [
  [
    "healthy flag after the critical unit is active ≤ the tutorial chain's, same boots (until the gated unit starts)",
    "74–96 ms (tutorial 18–20 ms)",
    ...RUNTIMES.map((rt) =>
      UNRELATED.map((n) => {
        const b = median(pick(rt.key, n, flag));
        const t = median(allTut(n));
        return `${n}: ${b.toFixed(1)} vs ${t.toFixed(1)} ms ${b <= t ? "met" : "missed"}`;
      }).join("; "),
    ),
  ],
  [
    "slot marked good (written and synced) after the critical unit is active ≤ 15 ms",
    "64–90 ms",
    ...RUNTIMES.map((rt) =>
      UNRELATED.map((n) => `${n}: ${verdictCell(median(pick(rt.key, n, mark)), 15, "ms")}`).join("; "),
    ),
  ],
  ...(top > 0
    ? [
        [
          `extra delay with ${top} unrelated units ≤ 15 ms`,
          "+1.7 s (up to +4.7 s)",
          ...RUNTIMES.map((rt) => verdictCell(median(pick(rt.key, top, mark)) - m0(rt.key, mark), 15, "ms")),
        ],
        [
          `extra CPU with ${top} unrelated units ≤ 50 ms`,
          "+430–600 ms",
          ...RUNTIMES.map((rt) =>
            verdictCell(
              median(pick(rt.key, top, (r) => r.cpuToTenAfterVerdictMs)) -
                m0(rt.key, (r) => r.cpuToTenAfterVerdictMs),
              50,
              "ms",
            ),
          ),
        ],
      ]
    : []),
  [
    `busy boot (${BUSY} unrelated units ending around the critical unit): flag ≤ the tutorial chain's, mark ≤ 15 ms`,
    "680 ms vs the chain's 236 ms (measured outside the bench)",
    ...RUNTIMES.map((rt) => {
      const b = median(busy[rt.key].map(flag));
      const t = median(allBusyTut());
      return `flag ${b.toFixed(1)} vs ${t.toFixed(1)} ms ${b <= t ? "met" : "missed"}; mark ${verdictCell(median(busy[rt.key].map(mark)), 15, "ms")}`;
    }),
  ],
  [
    `${CRIT} critical units, last active -> marked ≤ 200 ms`,
    "6.9 s (1000 units)",
    ...RUNTIMES.map((rt) => verdictCell(median(crit[rt.key].map(mark)), 200, "ms")),
  ],
  [
    "exec -> READY=1 ≤ 2× a bare node sending READY=1 under the same sandbox",
    "273–509 ms",
    ...RUNTIMES.map((rt) => {
      const bound = median(ready((x) => x.nodeMs)(rt.key));
      return verdictCell(
        m0(rt.key, (r) => ms(r.readyUs, r.execUs)),
        2 * bound,
        "ms",
        `bare node ${bound.toFixed(0)} ms, so ≤ ${(2 * bound).toFixed(0)} ms; systemd's sandboxed exec to READY=1 alone ${median(ready((x) => x.notifyMs)(rt.key)).toFixed(0)} ms`,
      );
    }),
  ],
  [
    "steady RssAnon ≤ 15 MB",
    "11.1 / 17.1 MB (with the cosmetic release)",
    ...RUNTIMES.map((rt) =>
      verdictCell(
        m0(rt.key, (r) => r.steadyRssAnon / 1e6),
        15,
        "MB",
        `bare node ${median(bare((b) => b.anon / 1e6)(rt.key)).toFixed(1)} MB in the same container`,
      ),
    ),
  ],
  [
    "steady cgroup memory.current ≤ 30 MB",
    "not measured",
    // The nspawn figure where the host has one (cgroup v2), else the QEMU guest's.
    ...RUNTIMES.map((rt) => {
      const own = m0(rt.key, (r) => mb(r.steadyCgroupMemory));
      const guest = mb(vm[rt.key]?.["bootwarden.current"] ?? null);
      return Number.isFinite(own)
        ? verdictCell(own, 30, "MB")
        : verdictCell(
            guest,
            30,
            "MB",
            `cgroup v2 QEMU guest; a bare node there ${mb(vm[rt.key]?.["bench-bare-node.current"] ?? null).toFixed(1)} MB, ${mb(vm[rt.key]?.["bench-first-node.current"] ?? null).toFixed(1)} MB as the binary's first reader`,
          );
    }),
  ],
  [
    "idle CPU after the verdict ≤ 5 ms / 60 s (from 10 s after it; the 10 s before are reported apart above)",
    "17 ms / 60 s",
    ...RUNTIMES.map((rt) =>
      verdictCell(
        m0(rt.key, (r) => (r.idleCpuMs * 60) / r.idleSeconds),
        5,
        "ms",
        `bare node with a timer at the daemon's ping period ${median(bareIdle((b) => b.cpuMs)(rt.key)).toFixed(1)} ms`,
      ),
    ),
  ],
];
const targets = `

## Targets (the performance issue's table, this run)

| target | before | ${RUNTIMES.map((r) => r.label).join(" | ")} |
|---|---|---|---|
${targetRows.map((r) => `| ${r.join(" | ")} |`).join("\n")}
`;
mkdirSync(path.join(REPO, "bench"), { recursive: true });
if (!QUICK) writeFileSync(path.join(REPO, "bench/results.md"), `${header}${table}\n${targets}`);
process.stdout.write(`${header}${table}\n${targets}`);
