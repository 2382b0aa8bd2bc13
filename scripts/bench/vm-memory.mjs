// The cgroup figures from a cgroup v2 QEMU guest (scripts/bench/vm-memory.sh), for hosts whose systemd-nspawn
// containers have no per-unit memory accounting (cgroup v1). One guest per runtime, run one at a time.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO } from "../lib/harness.mjs";

/** runtime key -> { "bootwarden.current": bytes, ... } from the guest's BWMEM lines, or { error }. */
export function vmMemory(keys, idle, log) {
  const out = {};
  for (const key of keys) {
    log(`cgroup v2 guest under QEMU (${key}): a normal boot, then the trial boot and ${idle} s idle`);
    const r = spawnSync("bash", [path.join(REPO, "scripts/bench/vm-memory.sh"), key, String(idle)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: (2 * 240 + idle + 300) * 1000,
    });
    const figures = {};
    for (const m of (r.stdout ?? "").matchAll(/([\w.-]+)=(\S+)/g))
      figures[m[1]] = /^\d+$/.test(m[2]) ? Number(m[2]) : m[2];
    out[key] = r.status === 0 ? figures : { error: `vm-memory.sh ${key} exited ${r.status ?? r.signal}` };
    if (r.status !== 0) log(`  ${out[key].error}`);
  }
  return out;
}
