// What a fleet learns from a machine, on a real systemd (nspawn): Debian's own prometheus-node-exporter runs inside
// the machine on loopback with its textfile collector, and is scraped at the start of each boot and after its
// verdict, through a blessed trial and through a rollback; `promtool check metrics` (Debian's prometheus) judges every
// scrape. Needs root, prometheus-node-exporter and prometheus (scripts/setup.sh installs them).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_REBOOT, Machine, machineConfig, run } from "../../scripts/lib/harness.mjs";
import { VERSION } from "../../src/base/version.js";
import { machinesOfFile } from "../helpers/machines.js";
import { requireTool } from "../helpers/tools.js";

const machines = machinesOfFile();

// node's fetch, retried while node-exporter starts: no curl in a minimal Debian.
const SCRAPE = `const get = async (n) => {
  try { const r = await fetch("http://127.0.0.1:9100/metrics"); process.stdout.write(await r.text()); }
  catch (e) { if (n > 100) throw e; await new Promise((r) => setTimeout(r, 100)); return get(n + 1); }
};
get(0);
`;

function write(m: Machine, p: string, text: string, mode = 0o644): void {
  const f = path.join(m.dir, p);
  mkdirSync(path.dirname(f), { recursive: true, mode: 0o755 });
  writeFileSync(f, text, { mode });
}

function unit(m: Machine, name: string, text: string): void {
  write(m, `etc/systemd/system/${name}`, text);
  run("systemctl", [`--root=${m.dir}`, "enable", name]);
}

/** A machine with node-exporter (the host's Debian binary) and a unit that scrapes it twice per boot. */
function machine(name: string, opts: { badSlots?: string[] } = {}): Machine {
  const m = new Machine(`bw-${name}`).create({ config: machineConfig(), appDelay: 3, ...opts });
  machines.push(m);
  copyFileSync("/usr/bin/prometheus-node-exporter", path.join(m.dir, "usr/bin/prometheus-node-exporter"));
  run("chmod", ["0755", path.join(m.dir, "usr/bin/prometheus-node-exporter")]);
  mkdirSync(path.join(m.dir, "var/lib/prometheus/node-exporter"), { recursive: true });
  write(m, "usr/local/lib/scrape.js", SCRAPE);
  unit(
    m,
    "node-exporter.service",
    `[Service]
ExecStart=/usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:9100 --collector.disable-defaults --collector.textfile --collector.textfile.directory=/var/lib/prometheus/node-exporter
[Install]
WantedBy=multi-user.target
`,
  );
  unit(
    m,
    "scrape.service",
    `[Unit]
After=bootwarden.service node-exporter.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'n=$(ls /var/lib/bootwarden-test | grep -c -- -start$); \\
node /usr/local/lib/scrape.js > /var/lib/bootwarden-test/metrics-boot$n-start; \\
bootwarden wait; sleep 1; node /usr/local/lib/scrape.js > /var/lib/bootwarden-test/metrics-boot$n-verdict'
[Install]
WantedBy=multi-user.target
`,
  );
  return m;
}

const scrape = (m: Machine, boot: number, when: "start" | "verdict") =>
  readFileSync(path.join(m.dir, `var/lib/bootwarden-test/metrics-boot${boot}-${when}`), "utf8");
/** bootwarden's samples of a scrape, "name{labels} value" per line. */
const ours = (text: string) => text.split("\n").filter((l) => l.startsWith("bootwarden_"));
/** The value of a sample without labels (node-exporter prints large values as 1.796e+09). */
const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
const nowS = () => Date.now() / 1000;

/** promtool's verdict on a scrape: its exit status and what it printed. */
function promtool(text: string): { status: number | null; out: string } {
  const r = run("sh", ["-c", "promtool check metrics; echo rc=$?"], { input: text });
  const status = Number(/rc=(\d+)\s*$/.exec(r)?.[1] ?? -1);
  return { status, out: r.replace(/rc=\d+\s*$/, "").trim() };
}

describe("Prometheus: node-exporter's textfile collector serves bootwarden's metrics", {
  timeout: 300_000,
}, () => {
  it("a blessed trial: pending with the check down at the start, healthy with a blessing after; promtool accepts both", async () => {
    requireTool("prometheus-node-exporter");
    requireTool("promtool");
    const m = machine("metrics-ok");
    m.arm("USR-B");
    const b = await m.boot();
    expect(b.exit).toBe(0);
    const start = scrape(m, 0, "start");
    const info = `bootwarden_info{backend="gpt",booted_slot="PARTLABEL=USR-B",version="${VERSION}"} 1`;
    expect(ours(start)).toEqual(
      expect.arrayContaining([
        info,
        "bootwarden_up 1",
        "bootwarden_trial_boot 1",
        'bootwarden_verdict{verdict="pending"} 1',
        'bootwarden_verdict{verdict="healthy"} 0',
        "bootwarden_tries_left 0",
        'bootwarden_check_up{check="unit:app.service",critical="true",kind="unit"} 0',
        "bootwarden_rollbacks_total 0",
        "bootwarden_blessings_total 0",
      ]),
    );
    // The deadline is 30 s after the start of userspace: in the near future of the scrape.
    expect(value(start, "bootwarden_trial_deadline_timestamp_seconds") - nowS()).toBeGreaterThan(-60);
    expect(value(start, "bootwarden_trial_deadline_timestamp_seconds") - nowS()).toBeLessThan(60);
    expect(start).toMatch(/^node_textfile_scrape_error 0$/m);
    const verdict = scrape(m, 0, "verdict");
    expect(ours(verdict)).toEqual(
      expect.arrayContaining([
        info,
        'bootwarden_verdict{verdict="pending"} 0',
        'bootwarden_verdict{verdict="healthy"} 1',
        'bootwarden_check_up{check="unit:app.service",critical="true",kind="unit"} 1',
        "bootwarden_blessings_total 1",
        "bootwarden_rollbacks_total 0",
      ]),
    );
    expect(Math.abs(value(verdict, "bootwarden_last_verdict_timestamp_seconds") - nowS())).toBeLessThan(60);
    for (const text of [start, verdict]) expect(promtool(text)).toEqual({ status: 0, out: "" });
  });

  it("a rolled-back trial: the fallback boot is normal and counts the rollback", async () => {
    const m = machine("metrics-rollback", { badSlots: ["USR-B"] });
    m.arm("USR-B");
    // The trial reboots as soon as its app fails: what it published lasts a moment; the fallback's counts stay.
    expect((await m.boot()).exit).toBe(EXIT_REBOOT);
    expect((await m.boot()).exit).toBe(0);
    const after = scrape(m, 1, "verdict");
    expect(ours(after)).toEqual(
      expect.arrayContaining([
        "bootwarden_trial_boot 0",
        'bootwarden_verdict{verdict="healthy"} 1',
        "bootwarden_rollbacks_total 1",
        "bootwarden_blessings_total 0",
      ]),
    );
    // A normal boot has no deadline, no tries and no checks to report.
    expect(ours(after).filter((l) => /deadline|tries_left|check_up/.test(l))).toEqual([]);
    expect(promtool(after)).toEqual({ status: 0, out: "" });
  });
});
