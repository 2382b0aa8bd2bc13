// The benchmark's machines: bootwarden (on the host's Node or the bundled one) and the Flatcar tutorial's units side by
// side in one container, and one measured trial boot after a warm-up normal boot.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { MessageId } from "../../dist/base/message-ids.js";
import { Machine, machineConfig, REPO, sysextImage } from "../lib/harness.mjs";
import { TUTORIAL_UNITS, tutorialFiles } from "./tutorial-units.mjs";

export const LTS_NODE = "/usr/lib/bootwarden/node";
export const RUNTIMES = [
  {
    key: "host",
    label: `bootwarden, host Node ${process.version}`,
    install: "script",
    node: "/usr/bin/node",
  },
  { key: "lts", label: "bootwarden, bundled LTS Node (sysext)", install: "sysext", node: LTS_NODE },
];

export function addFiles(m, files) {
  for (const [rel, text] of Object.entries(files)) {
    const f = path.join(m.dir, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    if (rel.includes("/bin/")) chmodSync(f, 0o755);
  }
}
export const enable = (m, units) =>
  units.length && execFileSync("systemctl", [`--root=${m.dir}`, "enable", ...units], { stdio: "ignore" });

/**
 * A container with bootwarden (installed per `runtime`) and the tutorial's units side by side, `critical` critical
 * units, `unrelated` trivial units started the moment app.service is active, and the probe that records the figures.
 * `busy`: a busy boot instead: app.service becomes active 4 s after it starts, and the unrelated units start with it
 * and end between 3.9 and 4.1 s after their start, so that their signals straddle the critical unit's activation.
 */
export function benchMachine(
  name,
  { runtime, critical = ["app.service"], unrelated = 0, idle = 0, deadline = "60s", busy = false },
) {
  const m = new Machine(`bench-${name}`).create({
    config: machineConfig({ units: critical, deadline }),
    appDelay: busy ? 4 : 1,
    install: runtime.install,
    ...(runtime.install === "sysext" ? { image: sysextImage() } : {}),
  });
  spawnSync("systemctl", [`--root=${m.dir}`, "disable", "test-end.service"], { stdio: "ignore" });
  execFileSync("cp", [
    path.join(REPO, "scripts/bench/probe.mjs"),
    path.join(m.dir, "usr/local/bin/bench-probe.mjs"),
  ]);
  execFileSync("cp", ["/usr/bin/cgpt", path.join(m.dir, "usr/bin/cgpt")]);
  const files = {
    ...tutorialFiles(30),
    "etc/bench/critical": `${critical.join("\n")}\n`,
    "etc/systemd/system/bench-anchor.service": `[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo "BENCH userspace=$(systemctl show -P UserspaceTimestampMonotonic)"'\n[Install]\nWantedBy=multi-user.target\n`,
    "etc/systemd/system/bench-probe.service": `[Unit]\nAfter=multi-user.target\n[Service]\nType=exec\nExecStart=${runtime.node} /usr/local/bin/bench-probe.mjs ${idle} 0 ${MessageId.markedGood}\n[Install]\nWantedBy=multi-user.target\n`,
  };
  const scale = critical.filter((u) => u.startsWith("bench-u"));
  const others = Array.from({ length: unrelated }, (_, i) => `bench-x${i + 1}.service`);
  const ends = (i) => (3.9 + (0.2 * i) / Math.max(1, others.length - 1)).toFixed(3);
  for (const [i, u] of [...scale, ...others].entries()) {
    const other = u.startsWith("bench-x");
    // Busy: each ends at a moment fixed from the same anchor as app.service's start (t0), so that the spread of a
    // thousand spawns does not spread their ends: /proc/uptime and systemd's timestamps run on the host's clock.
    const exec =
      busy && other
        ? `/bin/sh -c 'read t0 _ </run/bench/t0; read now _ </proc/uptime; exec sleep $(awk "BEGIN{d=$t0+${ends(i - scale.length)}-$now; print (d>0?d:0)}")'`
        : "/bin/true";
    const after = busy && other ? "[Unit]\nAfter=bench-t0.service\n" : "";
    files[`etc/systemd/system/${u}`] =
      `${after}[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=${exec}\n[Install]\nWantedBy=${other ? "bench-units.target" : "bench-critical.target"}\n`;
  }
  if (others.length && busy) {
    // Pulled into the boot's own transaction, beside app.service: started together with it, after the anchor.
    files["etc/systemd/system/bench-units.target"] =
      "[Unit]\nDescription=Unrelated units\n[Install]\nWantedBy=multi-user.target\n";
    files["etc/systemd/system/bench-t0.service"] =
      "[Unit]\nBefore=app.service\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'mkdir -p /run/bench; cut -d\" \" -f1 /proc/uptime > /run/bench/t0'\n[Install]\nWantedBy=multi-user.target\n";
  } else if (others.length) {
    files["etc/systemd/system/bench-units.target"] = "[Unit]\nDescription=Unrelated units\n";
    files["etc/systemd/system/bench-burst.service"] =
      "[Unit]\nAfter=app.service\n[Service]\nType=oneshot\nExecStart=/bin/systemctl start --no-block bench-units.target\n[Install]\nWantedBy=multi-user.target\n";
  }
  if (scale.length) {
    // Started together once the daemon is READY: the figure is its reaction to them coming up, not its start.
    files["etc/systemd/system/bench-critical.target"] = "[Unit]\nDescription=Critical units\n";
    files["etc/systemd/system/bench-start.service"] =
      "[Unit]\nAfter=bootwarden.service\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'sleep 1; systemctl start bench-critical.target'\n[Install]\nWantedBy=multi-user.target\n";
  }
  addFiles(m, files);
  // The unrelated units' [Install] only takes effect through links: made here, as `systemctl enable` would (one call
  // per thousand units is slow). Without them bench-units.target started nothing at all.
  if (others.length) {
    const wants = path.join(m.dir, "etc/systemd/system/bench-units.target.wants");
    mkdirSync(wants, { recursive: true });
    for (const u of others) symlinkSync(`/etc/systemd/system/${u}`, path.join(wants, u));
  }
  enable(m, [
    "bench-anchor.service",
    "bench-probe.service",
    ...TUTORIAL_UNITS,
    ...scale,
    ...(others.length ? (busy ? ["bench-units.target", "bench-t0.service"] : ["bench-burst.service"]) : []),
    ...(scale.length ? ["bench-start.service"] : []),
  ]);
  if (runtime.install === "sysext") {
    // The sysext machine has no /usr/bin/node: the probe and the tutorial's scripts use the bundled one, and
    // `bootwarden wait` is the extension's wrapper.
  }
  return m;
}

/**
 * A normal boot first (as the machine did before the update: the daemon caches its validated config, Node its
 * compiled code), then the trial boot that is measured.
 */
export async function bootOnce(name, opts, { prepare, collect } = {}) {
  const m = benchMachine(name, opts);
  try {
    prepare?.(m);
    const warm = await m.boot({ timeoutMs: 300_000 });
    if (warm.exit !== 0)
      throw new Error(`${name}: the warm-up boot failed (exit ${warm.exit})\n${warm.console.slice(-2000)}`);
    rmSync(path.join(m.dir, "var/lib/bench/result.json"), { force: true });
    m.arm("USR-B");
    const b = await m.boot({ timeoutMs: 300_000 });
    const r = JSON.parse(m.file("var/lib/bench/result.json") ?? "null");
    if (!r) throw new Error(`${name}: no result (exit ${b.exit})\n${b.console.slice(-3000)}`);
    collect?.(m);
    return r;
  } finally {
    m.destroy();
  }
}
