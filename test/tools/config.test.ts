import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli, NO_BUS, NO_BUS_WARNING, REPO, tempDir, writeConfig } from "../helpers/tools.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

const check = (yaml: string, env: Record<string, string> = {}) =>
  cli(["check-config", "--config", writeConfig(dir, yaml)], { ...NO_BUS, ...env });

describe("config validation", () => {
  it("accepts a full config", () => {
    mkdirSync(path.join(dir, "dev"));
    writeFileSync(path.join(dir, "dev/vda"), ""); // the disk named, as a file in the test's root
    const r = check(
      `bootState:
  backend: gpt
  disk: /dev/vda
  booted: PARTLABEL=USR-B
assessment:
  deadline: 5m
  settle: 10s
  action: report
  critical:
    units: [sshd.service, "getty@tty1.service"]
    flags: [/run/myapp/ready]
  wanted:
    units: [chronyd.service]
  noFailedUnits: true
monitor:
  schedule: "*/5 * * * *"
`,
      { BOOTWARDEN_ROOT: dir },
    );
    expect(r.stderr).toBe(NO_BUS_WARNING);
    expect(r.status).toBe(0);
  });

  it.each([
    ["bootState:\n  backend: gpt\n  disk: /dev/vda\n  colour: red\n", /bootState: unknown key colour/],
    ["bootstate:\n  backend: gpt\n", /\(top level\): unknown key bootstate/],
    ["bootState:\n  backend: lilo\n", /bootState\.backend: /],
    ["bootState:\n  backend: gpt\n  path: /boot/grub/grubenv\n", /bootState: unknown key path/],
    [
      "bootState:\n  backend: gpt\n  booted: USR-B\n",
      /bootState\.booted: must be PARTLABEL=<label> or PARTUUID=<guid>/,
    ],
    ["assessment:\n  deadline: -5m\n", /assessment\.deadline: not a duration: "-5m"/],
    [
      "assessment:\n  critical:\n    units: [sshd]\n",
      /assessment\.critical\.units\.0: not a valid systemd unit name/,
    ],
    ["assessment:\n  action: reboot\n", /assessment\.action: /],
    ["monitor:\n  schedule: every minute\n", /monitor\.schedule: not a valid cron expression/],
    ["bootState: [\n", /invalid YAML/],
    ["a: 1\na: 2\n", /invalid YAML/],
  ])("rejects %j with a message naming the key", (yaml, pattern) => {
    const r = check(yaml);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toMatch(/config\.yaml/);
  });

  it("merges drop-ins from config.d in lexical order over the main file", () => {
    mkdirSync(path.join(dir, "etc/bootwarden/config.d"), { recursive: true });
    writeFileSync(
      path.join(dir, "etc/bootwarden/config.yaml"),
      "bootState:\n  backend: grubenv\n  path: /boot/grubenv\n",
    );
    writeFileSync(path.join(dir, "etc/bootwarden/config.d/20-b.yaml"), "bootState:\n  scheme: kairos\n");
    writeFileSync(
      path.join(dir, "etc/bootwarden/config.d/10-a.yaml"),
      "bootState:\n  scheme: greenboot\n  path: /efi/grubenv\n",
    );
    mkdirSync(path.join(dir, "efi"));
    writeFileSync(path.join(dir, "efi/grubenv"), "");
    const r = cli(["check-config"], { BOOTWARDEN_ROOT: dir, ...NO_BUS });
    expect(r.stderr).toMatch(/^bootwarden: warning: no critical check \(assessment\.critical is empty\)/);
    expect(r.stdout).toMatch(
      /config\.yaml, \/etc\/bootwarden\/config\.d\/10-a\.yaml, \/etc\/bootwarden\/config\.d\/20-b\.yaml/,
    );
    rmSync(path.join(dir, "efi/grubenv"));
    // the merged path and scheme are the ones used: kairos reads the command line, the file is /efi/grubenv
    const s = cli(["status"], { BOOTWARDEN_ROOT: dir });
    expect(s.stderr).toMatch(/grubenv: \/efi\/grubenv: cannot read: ENOENT/);
  });

  it("a drop-in that breaks the config is named", () => {
    mkdirSync(path.join(dir, "etc/bootwarden/config.d"), { recursive: true });
    writeFileSync(path.join(dir, "etc/bootwarden/config.d/50-x.yaml"), "assessment:\n  deadlin: 3m\n");
    const r = cli(["check-config"], { BOOTWARDEN_ROOT: dir });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/50-x\.yaml: assessment: unknown key deadlin/);
  });

  it("rejects unknown commands and options", () => {
    expect(cli(["bless"]).status).toBe(2);
    const r = cli(["status", "--slot", "PARTLABEL=A"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--slot does not apply/);
  });

  it("check-config: a boot state that is not there, or not of its kind, is an error naming the key (exit 78)", () => {
    const missing = check("bootState:\n  backend: grubenv\n  path: /boot/grub2/grubenv\n", {
      BOOTWARDEN_ROOT: dir,
    });
    expect(missing.status).toBe(78);
    expect(missing.stderr).toBe("bootwarden: config: bootState.path: /boot/grub2/grubenv: does not exist\n");
    const sdz = check("bootState:\n  backend: gpt\n  disk: /dev/sdz\n", { BOOTWARDEN_ROOT: dir });
    expect(sdz.stderr).toBe("bootwarden: config: bootState.disk: /dev/sdz: does not exist\n");
    mkdirSync(path.join(dir, "efi"));
    const kind = check("bootState:\n  backend: grubenv\n  path: /efi\n", { BOOTWARDEN_ROOT: dir });
    expect(kind.stderr).toBe("bootwarden: config: bootState.path: /efi is not a file\n");
    expect(kind.status).toBe(78);
    // Under /run a path may appear at boot (Kairos' state partition): a warning, for image builds.
    const run = check(
      "bootState:\n  backend: grubenv\n  path: /run/initramfs/cos-state/boot_assessment\nassessment:\n  critical:\n    flags: [/run/app/ready]\n",
      { BOOTWARDEN_ROOT: dir },
    );
    // (then the sandbox's refusal: /run is not writable to the units without the drop-in)
    expect(run.stderr.split("\n")[0]).toBe(
      "bootwarden: warning: bootState.path: /run/initramfs/cos-state/boot_assessment is not there now (under /run, it may appear at boot)",
    );
    expect(run.stderr).not.toMatch(/does not exist/);
  });

  it("check-config on the shipped default config: valid, with a warning that no critical check would bless every trial", () => {
    mkdirSync(path.join(dir, "dev"));
    writeFileSync(path.join(dir, "dev/vda"), "");
    const shipped = readFileSync(path.join(REPO, "packaging/config/config.yaml"), "utf8");
    const r = check(shipped.replace("backend: gpt", "backend: gpt\n  disk: /dev/vda"), {
      BOOTWARDEN_ROOT: dir,
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      "bootwarden: warning: no critical check (assessment.critical is empty): every trial would be blessed as soon as it starts; name the units the machine must run, e.g. critical: {units: [ssh.service]}\n",
    );
  });
});
