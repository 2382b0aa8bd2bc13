// Runs inside a benchmark container after the boot's verdict: reads systemd's timestamps and the daemon's
// /proc figures, idles for a while to measure idle CPU, writes /var/lib/bench/result.json, powers off.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";

const [mode, idleSeconds = "0"] = process.argv.slice(2);
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
const cpuNs = (pid) => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
const status = (pid, key) =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;

const units = sh("sh", "-c", "cat /etc/bench/units 2>/dev/null || echo app.service")
  .split(/\s+/)
  .filter(Boolean);
if (mode === "bootwarden") {
  try {
    execFileSync("bootwarden", ["wait"], { stdio: "ignore" });
  } catch {}
} else {
  while (!existsSync("/run/bench/marked")) await sleep(100);
}
const r = { mode, units: units.length };
// The last critical unit to become active, by systemd's own clock.
r.lastActiveUs = Math.max(...units.map((u) => prop(u, "ActiveEnterTimestampMonotonic")));
r.flagUs = mtimeMonoUs(mode === "bootwarden" ? "/run/bootwarden/healthy" : "/run/first-boot-healthy");
r.diskUs = mtimeMonoUs("/boot/disk.img");
if (mode === "bootwarden") {
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
}
mkdirSync("/var/lib/bench", { recursive: true });
writeFileSync("/var/lib/bench/result.json", JSON.stringify(r));
execFileSync("systemctl", ["poweroff"]);
