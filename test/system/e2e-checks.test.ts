// Command checks and hooks under a real systemd (nspawn): greenboot's directory layout as is, each script a
// transient unit outside the daemon's sandbox (PrivateNetwork=yes there, yet the checks and hooks reach a server on
// the machine's loopback), a hanging check killed at its timeout, red hooks before the reboot, the login notice at
// each stage, and `bootwarden history` after the rollback boot. Needs root; CI runs it as root.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_REBOOT, type JournalEntry, Machine, machineConfig } from "../../scripts/lib/harness.mjs";
import { MessageId } from "../../src/base/message-ids.js";
import { machinesOfFile, putFile, putUnit } from "../helpers/machines.js";

const machines = machinesOfFile();

// A web service on the machine's loopback: /health answers 200; /hook/<kind>/<slot>... records who called.
const SERVER = `const http = require("node:http"), fs = require("node:fs");
http.createServer((req, res) => {
  if (req.url.startsWith("/hook/")) fs.appendFileSync("/var/lib/bootwarden-test/hook-hits", req.url.slice(6).replaceAll("/", " ") + "\\n");
  res.writeHead(req.url === "/nothing" ? 404 : 200).end("ok\\n");
}).listen(8080, "127.0.0.1");
`;
// bash's /dev/tcp: no curl in a minimal Debian. Exit 0 only on an HTTP 200.
const HTTP_GET = `#!/bin/bash
url=\${1#http://}; hostport=\${url%%/*}; path=/\${url#*/}
exec 3<>/dev/tcp/\${hostport%:*}/\${hostport#*:} || exit 2
printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' "$path" "$hostport" >&3
read -r _ status _ <&3
echo "GET $1: $status"
[ "$status" = 200 ]
`;

/**
 * The web service, the HTTP client, and a unit that keeps the login notice at two stages of each boot: as soon as it
 * appears (then it touches /run/bootwarden-test-go, which a check can wait for), and after the verdict.
 */
function machine(name: string, yaml: string, opts: { badSlots?: string[] } = {}): Machine {
  const m = new Machine(`bw-${name}`).create({
    config: machineConfig({ extra: yaml, deadline: "60s" }),
    ...opts,
  });
  machines.push(m);
  putFile(m, "usr/local/lib/web.js", SERVER);
  putFile(m, "usr/local/bin/http-get", HTTP_GET, 0o755);
  putUnit(
    m,
    "web.service",
    "[Service]\nExecStart=/usr/bin/node /usr/local/lib/web.js\n[Install]\nWantedBy=multi-user.target\n",
  );
  putUnit(
    m,
    "motd-keeper.service",
    `[Unit]\nAfter=bootwarden.service\n[Service]\nType=oneshot\nExecStart=/bin/sh -c '\\
n=$(ls /var/lib/bootwarden-test | grep -c -- -start$); \\
for i in $(seq 300); do [ -e /run/motd.d/bootwarden ] && break; sleep 0.05; done; \\
cat /run/motd.d/bootwarden > /var/lib/bootwarden-test/motd-boot$n-start 2>&1; \\
touch /run/bootwarden-test-go; \\
bootwarden wait; sleep 1; \\
cat /run/motd.d/bootwarden > /var/lib/bootwarden-test/motd-boot$n-verdict 2>&1 || true'\n[Install]\nWantedBy=multi-user.target\n`,
  );
  return m;
}

const byId = (j: JournalEntry[], id: string) => j.filter((e) => e.MESSAGE_ID === id);
const ofUnit = (j: JournalEntry[], u: string) => j.filter((e) => e._SYSTEMD_UNIT === u).map((e) => e.MESSAGE);

describe("command checks and hooks as transient units", { timeout: 300_000 }, () => {
  it("greenboot's required.d/wanted.d/green.d as is: checks reach the loopback server, a wanted failure degrades, blessed", async () => {
    const m = machine(
      "greenboot-ok",
      `    directories: [/etc/greenboot/check/required.d]
  wanted:
    directories: [/etc/greenboot/check/wanted.d]
hooks:
  greenDirectories: [/etc/greenboot/green.d]
`,
    );
    // As greenboot ships them: *.sh, not executable (greenboot runs them with bash).
    putFile(
      m,
      "etc/greenboot/check/required.d/01-pass.sh",
      "until [ -e /run/bootwarden-test-go ]; do sleep 0.1; done; echo required check passing\n",
    );
    putFile(
      m,
      "etc/greenboot/check/required.d/02-http.sh",
      "for i in $(seq 50); do http-get http://127.0.0.1:8080/health && exit 0; sleep 0.2; done; exit 1\n",
    );
    putFile(m, "etc/greenboot/check/required.d/README", "not a check: skipped\n");
    putFile(m, "etc/greenboot/check/wanted.d/01-fail.sh", "echo wanted check failing; exit 4\n");
    putFile(
      m,
      "etc/greenboot/green.d/01-notify.sh",
      'http-get "http://127.0.0.1:8080/hook/green/$BOOTWARDEN_SLOT/$BOOTWARDEN_VERDICT"\n',
    );
    m.arm("USR-B");
    const boot = await m.boot();
    expect(boot).toMatchObject({ slot: "USR-B", exit: 0 });
    const j = m.journal(0);
    expect(byId(j, MessageId.verdict)[0]?.MESSAGE).toBe(
      "verdict for trial boot of PARTLABEL=USR-B: degraded: command:/etc/greenboot/check/wanted.d/01-fail.sh: exited with status 4",
    );
    expect(m.slots()[1]).toMatchObject({ label: "USR-B", successful: true });
    // Each check's output is in the journal under its own unit.
    expect(ofUnit(j, "bootwarden-check-critical-01-pass.sh.service")).toContain("required check passing");
    expect(ofUnit(j, "bootwarden-check-critical-02-http.sh.service")).toContain(
      "GET http://127.0.0.1:8080/health: 200",
    );
    expect(ofUnit(j, "bootwarden-check-wanted-01-fail.sh.service")).toContain("wanted check failing");
    expect(j.some((e) => /bootwarden-check-critical-README/.test(e.MESSAGE ?? ""))).toBe(false);
    // The green hook reached the server on the loopback, with the verdict in its environment.
    expect(m.file("var/lib/bootwarden-test/hook-hits")).toBe("green PARTLABEL=USR-B degraded\n");
    expect(m.file("var/lib/bootwarden-test/motd-boot0-start")).toMatch(
      /^bootwarden: trial boot of PARTLABEL=USR-B: verdict pending, 1m left\n$/,
    );
    expect(m.file("var/lib/bootwarden-test/motd-boot0-verdict")).toBe(
      "bootwarden: trial boot of PARTLABEL=USR-B blessed, degraded: command:/etc/greenboot/check/wanted.d/01-fail.sh: exited with status 4\n",
    );
  });

  it("a hanging required check is killed at its timeout: unhealthy, red hook before the reboot, notice and history in the fallback boot", async () => {
    const m = machine(
      "greenboot-hang",
      `    directories: [/etc/greenboot/check/required.d]
    commands:
      - {run: "http-get http://127.0.0.1:8080/health", interval: 1s}
  commandTimeout: 4s
hooks:
  redDirectories: [/etc/greenboot/red.d]
  red: ["http-get http://127.0.0.1:8080/hook/red/$BOOTWARDEN_SLOT"]
`,
    );
    putFile(m, "etc/greenboot/check/required.d/01-hang.sh", "echo hanging; sleep infinity\n");
    putFile(m, "etc/greenboot/red.d/01-red.sh", "sleep 2; echo red hook done: $BOOTWARDEN_REASON\n");
    m.arm("USR-B");
    const first = await m.boot();
    expect(first).toMatchObject({ slot: "USR-B", exit: EXIT_REBOOT });
    const j = m.journal(0);
    const reason = "command:/etc/greenboot/check/required.d/01-hang.sh failed: timed out";
    expect(byId(j, MessageId.verdict)[0]?.MESSAGE).toBe(
      `verdict for trial boot of PARTLABEL=USR-B: unhealthy: ${reason}`,
    );
    expect(
      j.some((e) => /bootwarden-check-critical-01-hang\.sh\.service: .*[Tt]imed out/.test(e.MESSAGE ?? "")),
    ).toBe(true);
    expect(m.slots()[1]).toMatchObject({ priority: 0, successful: false });
    // The red hooks ended before the reboot was asked for.
    const red = j.find((e) => e.MESSAGE === `red hook done: ${reason}`);
    const reboot = byId(j, MessageId.rebootRequested)[0];
    expect(red).toBeDefined();
    expect(Number(red?.__MONOTONIC_TIMESTAMP)).toBeLessThan(Number(reboot?.__MONOTONIC_TIMESTAMP));
    expect(m.file("var/lib/bootwarden-test/hook-hits")).toBe("red PARTLABEL=USR-B\n");
    expect(m.file("var/lib/bootwarden-test/motd-boot0-start")).toMatch(/verdict pending, 1m left\n$/);

    const second = await m.boot();
    expect(second).toMatchObject({ slot: "USR-A", exit: 0 });
    expect(m.file("var/lib/bootwarden-test/motd-boot1-start")).toBe(
      `bootwarden: rolled back from PARTLABEL=USR-B: unhealthy (${reason})\n`,
    );
    const history = JSON.parse(m.chroot("bootwarden", "history", "--json"));
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ slot: "PARTLABEL=USR-B", verdict: "unhealthy", reason, by: "daemon" });
    expect(m.chroot("bootwarden", "history")).toMatch(/PARTLABEL=USR-B +unhealthy +daemon +command:/);
  });
});

describe("checks after the network, as greenboot's", { timeout: 300_000 }, () => {
  /**
   * A network that comes up 6 s into the boot: the stand-in server (port 8081) is started by a unit ordered
   * Before=network-online.target, which reports ready only once it listens.
   */
  function lateNetwork(name: string, check: string, yaml = `    commands: [${check}]\n`): Machine {
    const m = machine(name, yaml);
    putFile(
      m,
      "usr/local/lib/late-web.js",
      `require("node:http").createServer((q, r) => r.writeHead(200).end("ok\\n")).listen(8081, "127.0.0.1", () =>
  require("node:child_process").execFileSync("systemd-notify", ["--ready"]));\n`,
    );
    putUnit(
      m,
      "late-network.service",
      "[Unit]\nDescription=Stand-in network, up 6 s into the boot\nBefore=network-online.target\n[Service]\nType=notify\nNotifyAccess=all\nExecStartPre=/bin/sleep 6\nExecStart=/usr/bin/node /usr/local/lib/late-web.js\n[Install]\nWantedBy=network-online.target\n",
    );
    return m;
  }

  it("a check that needs the network waits for network-online.target and passes: the trial is blessed", async () => {
    const m = lateNetwork("net-late", '"http-get http://127.0.0.1:8081/health"');
    m.arm("USR-B");
    expect(await m.boot()).toMatchObject({ slot: "USR-B", exit: 0 });
    const j = m.journal(0);
    expect(byId(j, MessageId.verdict).map((e) => e.BOOTWARDEN_VERDICT)).toEqual(["healthy"]);
    const unitName = "bootwarden-check-critical-http-get.service";
    expect(ofUnit(j, unitName)).toContain("GET http://127.0.0.1:8081/health: 200");
    // It ran after the late network, not at the start of the assessment.
    const netUp = j.find(
      (e) => e._SYSTEMD_UNIT === "init.scope" && /Reached target network-online\.target/.test(e.MESSAGE),
    );
    const ran = j.find((e) => e._SYSTEMD_UNIT === unitName);
    expect(Number(ran?.__MONOTONIC_TIMESTAMP)).toBeGreaterThan(Number(netUp?.__MONOTONIC_TIMESTAMP));
  });

  it("greenboot's own required.d and wanted.d scripts, unchanged, after the late network: blessed healthy", async () => {
    const m = lateNetwork(
      "greenboot-own",
      "",
      `    directories: [/etc/greenboot/check/required.d]
  wanted:
    directories: [/etc/greenboot/check/wanted.d]
  greenbootConfig: /etc/greenboot/greenboot.conf
`,
    );
    const fixtures = path.join(import.meta.dirname, "../fixtures/greenboot");
    for (const f of [
      "check/required.d/00_required_scripts_start.sh",
      "check/required.d/01_repository_dns_check.sh",
      "check/required.d/02_watchdog.sh",
      "check/wanted.d/00_wanted_scripts_start.sh",
      "check/wanted.d/01_update_platforms_check.sh",
      "greenboot.conf",
    ])
      putFile(m, `etc/greenboot/${f}`, readFileSync(path.join(fixtures, f), "utf8"));
    // What a Fedora IoT machine has for them: an ostree remote, its name resolvable, the update server (here the
    // late stand-in on 8081), and curl (a stand-in: a minimal Debian has none; HEAD over bash's /dev/tcp).
    putFile(
      m,
      "etc/ostree/remotes.d/fedora-iot.conf",
      '[remote "fedora-iot"]\nurl=http://updates.example.test:8081/repo\n',
    );
    putFile(m, "etc/hosts", "127.0.0.1 localhost\n127.0.0.1 updates.example.test\n");
    putFile(
      m,
      "usr/local/bin/curl",
      `#!/bin/bash
url=\${@: -1}; url=\${url#http://}; hostport=\${url%%/*}; path=/\${url#*/}
exec 3<>/dev/tcp/127.0.0.1/\${hostport#*:} || { echo 000; exit 7; }
printf 'HEAD %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' "$path" "$hostport" >&3
read -r _ status _ <&3; echo "$status"
`,
      0o755,
    );
    m.arm("USR-B");
    expect(await m.boot()).toMatchObject({ slot: "USR-B", exit: 0 });
    const j = m.journal(0);
    expect(byId(j, MessageId.verdict).map((e) => e.MESSAGE)).toEqual([
      "verdict for trial boot of PARTLABEL=USR-B: healthy: all critical checks passed",
    ]);
    const out = (script: string) => ofUnit(j, `bootwarden-check-${script}.service`);
    expect(out("critical-01_repository_dns_check.sh")).toContain("All domains have resolved correctly");
    expect(out("critical-02_watchdog.sh")).toContain("No watchdog on the system, skipping check");
    expect(out("wanted-01_update_platforms_check.sh")).toContain("We can connect to all update platforms");
  });

  it("the same boot with network: false on the check: it runs at once, fails, and the trial is rolled back", async () => {
    const m = lateNetwork("net-early", '{run: "http-get http://127.0.0.1:8081/health", network: false}');
    m.arm("USR-B");
    expect(await m.boot()).toMatchObject({ slot: "USR-B", exit: EXIT_REBOOT });
    expect(byId(m.journal(0), MessageId.verdict)[0]?.MESSAGE).toMatch(
      /unhealthy: command:http-get http:\/\/127\.0\.0\.1:8081\/health failed: exited with status 2$/,
    );
  });
});

describe("an ostree/bootc host after a fallback", { timeout: 400_000 }, () => {
  it("the previous deployment is made the default once (bootc rollback, as greenboot does), not at later boots", async () => {
    const m = machine("bootc", "", { badSlots: ["USR-B"] });
    // Stand-ins: an ostree host (/run/ostree-booted, made early at every boot) with bootc, whose calls are recorded.
    putFile(
      m,
      "usr/bin/bootc",
      '#!/bin/sh\necho "bootc $*" >> /var/lib/bootwarden-test/bootc-calls\n[ "$1" = status ] && echo \'{"kind":"BootcHost"}\'\nexit 0\n',
      0o755,
    );
    putUnit(
      m,
      "ostree-booted.service",
      "[Unit]\nDefaultDependencies=no\nBefore=bootwarden.service sysinit.target\n[Service]\nType=oneshot\nExecStart=/bin/touch /run/ostree-booted\n[Install]\nWantedBy=sysinit.target\n",
    );
    m.arm("USR-B");
    expect(await m.boot()).toMatchObject({ slot: "USR-B", exit: EXIT_REBOOT });
    expect(m.file("var/lib/bootwarden-test/bootc-calls")).toBeUndefined(); // not on the failing trial itself
    expect(await m.boot()).toMatchObject({ slot: "USR-A", exit: 0 });
    const j = m.journal(1);
    expect(byId(j, MessageId.deploymentRollback).map((e) => e.MESSAGE)).toEqual([
      "made the previous deployment the default after the failed trial of PARTLABEL=USR-B (bootwarden-deployment-rollback.service)",
    ]);
    expect(ofUnit(j, "bootwarden-deployment-rollback.service")).toContain("bootc rollback");
    expect(m.file("var/lib/bootwarden-test/bootc-calls")).toBe(
      "bootc status --booted --json\nbootc rollback\n",
    );
    // The next boot of A is an ordinary one: nothing is rolled back again.
    expect(await m.boot()).toMatchObject({ slot: "USR-A", exit: 0 });
    expect(byId(m.journal(2), MessageId.deploymentRollback)).toEqual([]);
    expect(m.file("var/lib/bootwarden-test/bootc-calls")).toBe(
      "bootc status --booted --json\nbootc rollback\n",
    );
  });
});
