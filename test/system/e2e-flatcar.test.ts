// Flatcar's boot choreography on a real systemd (nspawn): the sysext merged and Flatcar's own reload after it (an
// ensure-sysext.service doing what flatcar/init's does), and update-engine gated by the shipped drop-in, with a
// stand-in for update-engine that records when it started. Needs root.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_REBOOT, Machine, machineConfig, run, sysextImage } from "../../scripts/lib/harness.mjs";
import { machinesOfFile } from "../helpers/machines.js";
import { REPO } from "../helpers/tools.js";

const machines = machinesOfFile();
let image: string;
beforeAll(() => {
  image = sysextImage();
});

// update_engine's stand-in: it would mark the booted slot good 45 s after it starts; here it says when it started
// and whether bootwarden's healthy flag existed then.
const UPDATE_ENGINE = `[Unit]
Description=update_engine stand-in
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'echo "started healthy=$(test -e /run/bootwarden/healthy && echo yes || echo no)" >> /var/lib/bootwarden-test/update-engine'
[Install]
WantedBy=multi-user.target
`;

function withUpdateEngine(m: Machine): Machine {
  writeFileSync(path.join(m.dir, "etc/systemd/system/update-engine.service"), UPDATE_ENGINE);
  run("systemctl", [`--root=${m.dir}`, "enable", "update-engine.service"]);
  const d = path.join(m.dir, "etc/systemd/system/update-engine.service.d");
  mkdirSync(d, { recursive: true });
  writeFileSync(
    path.join(d, "10-bootwarden.conf"),
    readFileSync(path.join(REPO, "packaging/flatcar/update-engine.service.d/10-bootwarden.conf")),
  );
  return m;
}
const ue = (m: Machine) => {
  const f = path.join(m.dir, "var/lib/bootwarden-test/update-engine");
  return existsSync(f) ? readFileSync(f, "utf8").trim().split("\n") : [];
};
const BROKEN = `${machineConfig({ deadline: "15s" })}assesment: {}\n`; // a typo: an unknown key

describe("Flatcar: the sysext after ensure-sysext.service, and update-engine's gate", {
  timeout: 300_000,
}, () => {
  it("after Flatcar's reload the healthy path and target work: the gated unit runs once the trial is blessed", async () => {
    const m = new Machine("bw-fc-ensure").create({
      config: machineConfig(),
      install: "sysext",
      image,
      flatcarReload: true,
    });
    machines.push(m);
    expect(m.installLog).toMatch(/the host's ensure-sysext\.service reloads PID 1 after the merge/);
    expect(existsSync(path.join(m.dir, "etc/systemd/system/bootwarden-sysext.service"))).toBe(false);
    m.arm("USR-B");
    expect((await m.boot()).exit).toBe(0);
    expect(m.slots()[1]).toMatchObject({ priority: 2, tries: 0, successful: true });
    expect(readFileSync(path.join(m.dir, "var/lib/bootwarden-test/gated-ran"), "utf8")).toBe("ran\n");
    const j = m.journal(0, "-u", "ensure-sysext.service");
    expect(j.length).toBeGreaterThan(0); // Flatcar's reload ran, not ours
  });

  it("an ordinary boot with a config typo leaves update-engine startable", async () => {
    const m = withUpdateEngine(new Machine("bw-fc-typo").create({ config: BROKEN }));
    machines.push(m);
    expect((await m.boot()).exit).toBe(0);
    expect(ue(m)).toEqual(["started healthy=yes"]);
  });

  it("during a trial update-engine starts only after the healthy verdict", async () => {
    const m = withUpdateEngine(new Machine("bw-fc-trial").create({ config: machineConfig(), appDelay: 4 }));
    machines.push(m);
    m.arm("USR-B");
    expect((await m.boot()).exit).toBe(0);
    expect(ue(m)).toEqual(["started healthy=yes"]);
  });

  it("a trial with a config typo never starts update-engine: the backstop rolls it back, then it starts on A", async () => {
    const m = withUpdateEngine(new Machine("bw-fc-trial-typo").create({ config: BROKEN }));
    machines.push(m);
    m.arm("USR-B");
    expect((await m.boot()).exit).toBe(EXIT_REBOOT);
    expect(ue(m)).toEqual([]);
    const held = m.journal(0, "-u", "update-engine.service").map((e: { MESSAGE: string }) => e.MESSAGE);
    expect(held).toContain(
      "held back: trial boot of PARTLABEL=USR-B has no healthy verdict from bootwarden (journalctl -u bootwarden)",
    );
    expect((await m.boot()).exit).toBe(0);
    expect(m.boots.map((b) => b.slot)).toEqual(["USR-B", "USR-A"]);
    expect(ue(m)).toEqual(["started healthy=yes"]);
  });
});
