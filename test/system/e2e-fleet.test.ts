// What a fleet learns from a machine, on a real systemd (nspawn): Debian's own prometheus-node-exporter runs inside
// the machine on loopback with its textfile collector, and is scraped at the start of each boot and after its
// verdict, through a blessed trial and through a rollback; `promtool check metrics` (Debian's prometheus) judges every
// scrape. Needs root, prometheus-node-exporter and prometheus (scripts/setup.sh installs them).
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_REBOOT, Machine, machineConfig, run } from "../../scripts/lib/harness.mjs";
import { MessageId } from "../../src/base/message-ids.js";
import { VERSION } from "../../src/base/version.js";
import { machinesOfFile, putFile, putUnit } from "../helpers/machines.js";
import { requireTool } from "../helpers/tools.js";

const machines = machinesOfFile();

// One scrape with node's fetch (no curl in a minimal Debian), tried again every 100 ms for up to 30 s while node-exporter is not up yet (a loaded CI host starts it
// slowly) or, given a pattern, until the page matches it; the last page is printed either way, for the test to judge.
const SCRAPE = `const want = process.argv[2] && new RegExp(process.argv[2], "m");
const get = async (n) => {
  let text = "";
  try { text = await (await fetch("http://127.0.0.1:9100/metrics")).text(); } catch {}
  if ((text && (!want || want.test(text))) || n >= 300) return process.stdout.write(text);
  await new Promise((r) => setTimeout(r, 100));
  return get(n + 1);
};
get(0);
`;

/** A machine with node-exporter (the host's Debian binary) and a unit that scrapes it twice per boot. */
function machine(name: string, opts: { badSlots?: string[] } = {}): Machine {
  const m = new Machine(`bw-${name}`).create({ config: machineConfig(), appDelay: 3, ...opts });
  machines.push(m);
  copyFileSync("/usr/bin/prometheus-node-exporter", path.join(m.dir, "usr/bin/prometheus-node-exporter"));
  run("chmod", ["0755", path.join(m.dir, "usr/bin/prometheus-node-exporter")]);
  mkdirSync(path.join(m.dir, "var/lib/prometheus/node-exporter"), { recursive: true });
  putFile(m, "usr/local/lib/scrape.js", SCRAPE);
  putUnit(
    m,
    "node-exporter.service",
    `[Service]
ExecStart=/usr/bin/prometheus-node-exporter --web.listen-address=127.0.0.1:9100 --collector.disable-defaults --collector.textfile --collector.textfile.directory=/var/lib/prometheus/node-exporter
[Install]
WantedBy=multi-user.target
`,
  );
  putUnit(
    m,
    "scrape.service",
    `[Unit]
After=bootwarden.service node-exporter.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'n=$(cat /var/lib/bootwarden-test/boot-index); \\
node /usr/local/lib/scrape.js > /var/lib/bootwarden-test/metrics-boot$n-start; \\
bootwarden wait; sleep 1; node /usr/local/lib/scrape.js "^bootwarden_verdict.verdict=.(healthy|unhealthy).. 1" > /var/lib/bootwarden-test/metrics-boot$n-verdict'
[Install]
WantedBy=multi-user.target
`,
  );
  return m;
}

/** Boots the machine with its index in the tree, for the scrape's file names (a trial may reboot before its first). */
async function boot(m: Machine) {
  putFile(m, "var/lib/bootwarden-test/boot-index", String(m.boots.length));
  return m.boot();
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
    const b = await boot(m);
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
    expect((await boot(m)).exit).toBe(EXIT_REBOOT);
    expect((await boot(m)).exit).toBe(0);
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

// The API probe: on the trial boot, what root and `nobody` get from the API, a monitor for the signals, then root's
// MarkBad; on the boot after, `bootwarden status` through the API and from the files, and a user polkit allows
// marking; on a third boot, with polkit masked (absent), nobody but root may mark.
const PROBE = `#!/bin/bash
out=/var/lib/bootwarden-test
B="io.github.bootwarden1 /io/github/bootwarden1"
I=io.github.bootwarden1.Manager
# dbus-send for the mutators: it prints the error's name and message (busctl maps AccessDenied to strerror).
mark() { dbus-send --system --print-reply --dest=io.github.bootwarden1 /io/github/bootwarden1 "$I.$@"; }
as() { local u=$1; shift; setpriv --reuid=$u --regid=$(id -g $u) --clear-groups "$@"; }
try() { local name=$1; shift; "$@" >"$out/api-$name.out" 2>&1; echo $? >"$out/api-$name.rc"; }
n=$(cat $out/probe-n 2>/dev/null || echo 0); echo $((n + 1)) >$out/probe-n
if [ $n = 0 ]; then
  try introspect busctl introspect $B
  try nobody-getstatus as nobody busctl call $B $I GetStatus
  try nobody-get as nobody busctl get-property $B $I Phase
  try nobody-getall as nobody busctl call $B org.freedesktop.DBus.Properties GetAll s $I
  try nobody-markgood as nobody bash -c "$(declare -f mark); I=$I; mark MarkGood boolean:false"
  try nobody-markbad as nobody bash -c "$(declare -f mark); I=$I; mark MarkBad string:nobody boolean:false"
  try nobody-set as nobody busctl set-property $B $I Phase s normal
  try root-set busctl set-property $B $I Phase s normal
  busctl monitor io.github.bootwarden1 >$out/api-monitor.out 2>&1 &
  sleep 1
  try root-markbad busctl call $B $I MarkBad sb "operator test" false
  sleep 30
elif [ $n = 1 ]; then
  bootwarden wait
  try polkit-user-markgood as bwtest bash -c "$(declare -f mark); I=$I; mark MarkGood boolean:false"
  # The two readings race the daemon's own saves (the app is still starting): taken again until a quiet moment.
  for i in 1 2 3 4 5 6 7 8 9 10; do
    bootwarden status >$out/status-api.txt 2>&1
    bootwarden status --config /etc/bootwarden/config.yaml >$out/status-files.txt 2>&1
    bootwarden status --json >$out/status-api.json 2>&1
    bootwarden status --json --config /etc/bootwarden/config.yaml >$out/status-files.json 2>&1
    cmp -s $out/status-api.txt $out/status-files.txt && cmp -s $out/status-api.json $out/status-files.json && break
    sleep 0.3
  done
else
  bootwarden wait
  try nopolkit-user-markgood as bwtest bash -c "$(declare -f mark); I=$I; mark MarkGood boolean:false"
  try nopolkit-root-markgood busctl call $B $I MarkGood b false
fi
`;

describe("the D-Bus API on the real system bus", { timeout: 300_000 }, () => {
  it("introspectable; nobody reads but polkit refuses it marking and the bus policy Set; root's MarkBad rolls the trial back; signals; status the same; a user polkit allows marks, and without polkit only root", async () => {
    const m = new Machine("bw-api").create({ config: machineConfig({ deadline: "60s" }), appDelay: 50 });
    machines.push(m);
    putFile(m, "usr/local/bin/api-probe", PROBE, 0o755);
    // polkit allows one user the mark action (its JavaScript rules; Debian's polkitd 122).
    m.chroot("useradd", "-M", "-U", "-s", "/usr/sbin/nologin", "bwtest");
    putFile(
      m,
      "etc/polkit-1/rules.d/50-bwtest.rules",
      'polkit.addRule(function (action, subject) {\n  if (action.id == "io.github.bootwarden1.mark" && subject.user == "bwtest") return polkit.Result.YES;\n});\n',
    );
    putUnit(
      m,
      "api-probe.service",
      "[Unit]\nAfter=bootwarden.service\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/api-probe\n[Install]\nWantedBy=multi-user.target\n",
    );
    m.arm("USR-B");
    expect((await m.boot()).exit).toBe(EXIT_REBOOT);
    const out = (n: string) => readFileSync(path.join(m.dir, `var/lib/bootwarden-test/api-${n}.out`), "utf8");
    const rc = (n: string) =>
      Number(readFileSync(path.join(m.dir, `var/lib/bootwarden-test/api-${n}.rc`), "utf8"));
    expect(rc("introspect")).toBe(0);
    expect(out("introspect")).toMatch(/^io\.github\.bootwarden1\.Manager\s+interface/m);
    expect(out("introspect")).toMatch(/^\.MarkBad\s+method\s+sb\s+s\s/m);
    expect(out("introspect")).toMatch(/^\.Checks\s+property\s+a\(sss\)\s/m);
    expect(out("introspect")).toMatch(/^\.VerdictReached\s+signal\s+ss\s/m);
    for (const n of ["nobody-getstatus", "nobody-get", "nobody-getall"]) expect(rc(n), out(n)).toBe(0);
    expect(out("nobody-get")).toBe('s "assessing"\n');
    expect(out("nobody-getstatus")).toMatch(/"bootedSlot" s "PARTLABEL=USR-B"/);
    for (const n of ["nobody-markgood", "nobody-markbad"]) {
      expect(rc(n), out(n)).not.toBe(0);
      expect(out(n)).toMatch(
        /uid 65534 is not allowed to mark \(polkit action io\.github\.bootwarden1\.mark\)/,
      );
    }
    expect(rc("nobody-set")).not.toBe(0);
    expect(out("nobody-set")).toMatch(/Access denied/); // the bus policy: Set never reaches the daemon
    expect(rc("root-set")).not.toBe(0);
    expect(out("root-set")).toMatch(/read-only|Access denied/);
    expect(rc("root-markbad")).toBe(0);
    expect(out("root-markbad")).toMatch(/^s "verdict unhealthy \(operator: operator test\): carried out/);
    expect(out("monitor")).toMatch(
      /Member=VerdictReached[\s\S]*STRING "unhealthy";\s*STRING "operator: operator test";/,
    );
    expect(out("monitor")).toMatch(/Member=PropertiesChanged/);
    // The machine fell back to A, where the API answers `status` as the files do.
    expect((await m.boot()).exit).toBe(0);
    expect(m.boots.map((b) => b.slot)).toEqual(["USR-B", "USR-A"]);
    const f = (n: string) => readFileSync(path.join(m.dir, `var/lib/bootwarden-test/${n}`), "utf8");
    expect(f("status-api.txt")).toMatch(/^booted: +PARTLABEL=USR-A \(Debian GNU\/Linux 12 \(bookworm\)\)$/m);
    expect(f("status-api.txt")).toBe(f("status-files.txt"));
    expect(JSON.parse(f("status-api.json"))).toEqual(JSON.parse(f("status-files.json")));
    // The user polkit allows may mark (outside a trial: as mark-good does; A is good already).
    expect(rc("polkit-user-markgood"), out("polkit-user-markgood")).toBe(0);
    expect(out("polkit-user-markgood")).toMatch(/^\s+string "marked PARTLABEL=USR-A good/m);
    // Without polkit (masked: absent), only root.
    run("systemctl", [`--root=${m.dir}`, "mask", "polkit.service"]);
    expect((await m.boot()).exit).toBe(0);
    expect(rc("nopolkit-user-markgood")).not.toBe(0);
    expect(out("nopolkit-user-markgood")).toMatch(
      /^Error org\.freedesktop\.DBus\.Error\.AccessDenied: only root may mark here \(polkit did not answer/m,
    );
    expect(rc("nopolkit-root-markgood"), out("nopolkit-root-markgood")).toBe(0);
  });
});

// A FleetLock server written from Zincati's protocol, on the machine's loopback, with the contention reply of each
// known server: poseidon/fleetlock's 423 lock_held, or airlock's 500 failed_lock. Every request is logged with
// whether the healthy flag existed then.
const FLEETLOCK_SERVER = `const http = require("node:http"), fs = require("node:fs");
const mode = process.argv[2], S = "/var/lib/bootwarden-test/fleetlock-state.json", L = "/var/lib/bootwarden-test/fleetlock.log";
http.createServer((req, res) => {
  let b = "";
  req.on("data", (d) => (b += d));
  req.on("end", () => {
    const op = req.url.replace(/^\\/v1\\//, "");
    let p = {};
    try { p = JSON.parse(b).client_params ?? {}; } catch {}
    const send = (code, obj) => {
      fs.appendFileSync(L, op + " " + p.id + " " + code + " healthy=" + (fs.existsSync("/run/bootwarden/healthy") ? "yes" : "no") + "\\n");
      res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(obj));
    };
    if (req.headers["fleet-lock-protocol"] !== "true") return send(400, { kind: "missing_header", value: "fleet-lock-protocol" });
    const st = JSON.parse(fs.readFileSync(S, "utf8")), holder = st[p.group];
    const save = () => fs.writeFileSync(S, JSON.stringify(st));
    if (op === "pre-reboot") {
      if (!holder || holder === p.id) { st[p.group] = p.id; save(); return send(200, {}); }
      return mode === "airlock" ? send(500, { kind: "failed_lock", value: "semaphore full" }) : send(423, { kind: "lock_held", value: holder });
    }
    if (op === "steady-state") { if (holder === p.id) { delete st[p.group]; save(); } return send(200, {}); }
    send(404, { kind: "not_found", value: op });
  });
}).listen(8088, "127.0.0.1");
`;
// Another machine of the group asking for the reboot slot: once during the trial, once after the verdict.
const OTHER = `#!/bin/sh
ask() { node -e 'fetch("http://127.0.0.1:8088/v1/pre-reboot", { method: "POST", headers: { "fleet-lock-protocol": "true" }, body: JSON.stringify({ client_params: { id: "other", group: "default" } }) }).then((r) => console.log(r.status), (e) => console.log("down"))'; }
d=/var/lib/bootwarden-test; n=$(cat $d/other-n 2>/dev/null || echo 0); echo $((n + 1)) > $d/other-n
ask > $d/other-$n-during
bootwarden wait
# Our release, if it comes, before the second question (at most 10 s).
for i in $(seq 50); do grep -q steady-state $d/fleetlock.log 2>/dev/null && break; sleep 0.2; done
ask > $d/other-$n-after
cp $d/other-$n-after $d/other-last-after # the last boot's answer, however many boots came before
`;

function fleetlockMachine(
  name: string,
  mode: "poseidon" | "airlock",
  opts: { badSlots?: string[]; port?: number },
) {
  const m = new Machine(`bw-${name}`).create({
    config: machineConfig({
      extra: `fleetlock:\n  url: http://127.0.0.1:${opts.port ?? 8088}\n  id: m1\n`,
      deadline: "60s",
    }),
    appDelay: 3,
    ...(opts.badSlots ? { badSlots: opts.badSlots } : {}),
  });
  machines.push(m);
  putFile(m, "usr/local/lib/fleetlock-server.js", FLEETLOCK_SERVER);
  // The reboot manager took the group's lock before rebooting into the new slot.
  putFile(m, "var/lib/bootwarden-test/fleetlock-state.json", JSON.stringify({ default: "m1" }));
  putFile(m, "usr/local/bin/other-machine", OTHER, 0o755);
  putUnit(
    m,
    "fleetlock-server.service",
    `[Unit]\nBefore=network-online.target bootwarden.service\n[Service]\nExecStart=/usr/bin/node /usr/local/lib/fleetlock-server.js ${mode}\n[Install]\nWantedBy=multi-user.target network-online.target\n`,
  );
  putUnit(
    m,
    "other-machine.service",
    // Before test-end, which powers the machine off once the boot is blessed.
    "[Unit]\nAfter=bootwarden.service fleetlock-server.service\nBefore=test-end.service\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/other-machine\n[Install]\nWantedBy=multi-user.target\n",
  );
  return m;
}
const testFile = (m: Machine, n: string) =>
  readFileSync(path.join(m.dir, `var/lib/bootwarden-test/${n}`), "utf8");

describe("FleetLock: the group's reboot lock is held through a trial", { timeout: 300_000 }, () => {
  it("a blessed trial keeps the lock until its verdict, then releases it (poseidon's 423 for the other machine before)", async () => {
    const m = fleetlockMachine("fleetlock-ok", "poseidon", {});
    m.arm("USR-B");
    expect((await m.boot()).exit).toBe(0);
    expect(testFile(m, "other-0-during").trim()).toBe("423");
    expect(testFile(m, "other-0-after").trim()).toBe("200");
    const log = testFile(m, "fleetlock.log").trim().split("\n");
    // Our release came once, after the healthy flag; only then did the other machine get the slot.
    expect(log.filter((l) => l.startsWith("steady-state"))).toEqual(["steady-state m1 200 healthy=yes"]);
    expect(log.indexOf("steady-state m1 200 healthy=yes")).toBeLessThan(
      log.indexOf("pre-reboot other 200 healthy=yes"),
    );
    expect(JSON.parse(testFile(m, "fleetlock-state.json"))).toEqual({ default: "other" });
  });

  it("a rolled-back trial keeps the lock: the group stays frozen (airlock's 500 for the other machine)", async () => {
    const m = fleetlockMachine("fleetlock-rollback", "airlock", { badSlots: ["USR-B"] });
    m.arm("USR-B");
    expect((await m.boot()).exit).toBe(EXIT_REBOOT);
    expect((await m.boot()).exit).toBe(0);
    expect(m.boots.map((b) => b.slot)).toEqual(["USR-B", "USR-A"]);
    expect(testFile(m, "fleetlock.log")).not.toMatch(/steady-state/);
    // Asked on the fallback boot (the trial's own boot may reboot before the other machine's unit runs).
    expect(testFile(m, "other-last-after").trim()).toBe("500");
    expect(JSON.parse(testFile(m, "fleetlock-state.json"))).toEqual({ default: "m1" });
  });

  it("a server that is down never delays the rollback", async () => {
    const m = fleetlockMachine("fleetlock-down", "poseidon", { badSlots: ["USR-B"], port: 9 });
    m.arm("USR-B");
    const b = await m.boot();
    expect(b.exit).toBe(EXIT_REBOOT);
    const j = m.journal(0, "-u", "bootwarden.service");
    const at = (id: string) => Number(j.find((e) => e.MESSAGE_ID === id)?.__REALTIME_TIMESTAMP) / 1000;
    expect(at(MessageId.rebootRequested) - at(MessageId.verdict)).toBeLessThan(5000);
  });
});
