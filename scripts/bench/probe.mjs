// Runs inside a benchmark container after the boot's verdict: reads systemd's timestamps, the daemon's /proc figures
// and both designs' flag files, idles to measure idle CPU, writes /var/lib/bench/result.json, powers off.
// Usage: probe.mjs <idle seconds> <wait for the tutorial's mark: 0|1>
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";

const [idleSeconds = "0", waitTutorialMark = "0"] = process.argv.slice(2);
const sh = (cmd, ...args) => execFileSync(cmd, args, { encoding: "utf8" }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const monoUs = () => Number(process.hrtime.bigint() / 1000n);
// Offset between CLOCK_REALTIME and CLOCK_MONOTONIC, to put file mtimes on systemd's monotonic clock.
const offsetUs = () => {
  const m0 = monoUs();
  const r = (performance.timeOrigin + performance.now()) * 1000;
  return r - (m0 + monoUs()) / 2;
};
const mtimeMonoUs = (f) =>
  existsSync(f) ? Number(statSync(f, { bigint: true }).mtimeNs / 1000n) - offsetUs() : null;
const prop = (unit, p) => Number(sh("systemctl", "show", "-P", p, unit));
// Every thread's CPU (V8 compiles and collects on its own threads), from each task's schedstat.
const cpuNs = (pid) =>
  readdirSync(`/proc/${pid}/task`).reduce(
    (sum, t) => sum + Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]),
    0,
  );
const status = (pid, key) =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;

const units = readFileSync("/etc/bench/critical", "utf8").split(/\s+/).filter(Boolean);
try {
  execFileSync("bootwarden", ["wait"], { stdio: "ignore" });
} catch {}
// The unrelated units' burst is over before the daemon's CPU is read: its cost is part of the figure.
if (existsSync("/etc/systemd/system/bench-units.target"))
  while (sh("systemctl", "is-active", "bench-units.target").trim() !== "active") await sleep(100);
if (waitTutorialMark === "1") while (!existsSync("/run/bench/marked")) await sleep(100);
const r = { units: units.length };
// The last critical unit to become active, by systemd's own clock.
r.lastActiveUs = Math.max(...units.map((u) => prop(u, "ActiveEnterTimestampMonotonic")));
r.flagUs = mtimeMonoUs("/run/bootwarden/healthy");
r.tutorialFlagUs = mtimeMonoUs("/run/first-boot-healthy");
r.tutorialMarkUs = mtimeMonoUs("/run/bench/marked");
r.diskUs = mtimeMonoUs("/boot/disk.img");
const pid = prop("bootwarden.service", "MainPID");
r.execUs = prop("bootwarden.service", "ExecMainStartTimestampMonotonic");
r.readyUs = prop("bootwarden.service", "ActiveEnterTimestampMonotonic");
r.cpuToVerdictMs = cpuNs(pid) / 1e6;
r.peakRss = status(pid, "VmHWM");
const before = cpuNs(pid);
const t0 = monoUs();
await sleep(Number(idleSeconds) * 1000);
r.idleCpuMs = (cpuNs(pid) - before) / 1e6;
r.idleSeconds = (monoUs() - t0) / 1e6;
r.steadyRss = status(pid, "VmRSS");
r.steadyRssAnon = status(pid, "RssAnon");
mkdirSync("/var/lib/bench", { recursive: true });
writeFileSync("/var/lib/bench/result.json", JSON.stringify(r));
execFileSync("systemctl", ["poweroff"]);
