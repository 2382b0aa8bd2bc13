// The uboot backend through the CLI, judged by libubootenv's own tools: every write read back with fw_printenv (and
// compared byte for byte with what fw_setenv makes of the same changes), envs made by mkenvimage and fw_setenv, a
// redundant pair, a bad CRC, and fw_setenv writing at the same time as bootwarden. Needs fw_printenv, fw_setenv,
// mkenvimage (libubootenv-tool, u-boot-tools) and root (bootwarden's lock in /run/bootwarden).
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cli, NO_BUS, requireTool, sh, tempDir, writeConfig } from "../helpers/tools.js";

const SIZE = 0x400;
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  for (const t of ["fw_printenv", "fw_setenv", "mkenvimage"]) requireTool(t);
});
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** An env image (one copy, or a redundant pair of the same content) and its fw_env.config. */
function env(lines: string[], redundant = false): { img: string; fwcfg: string } {
  const txt = path.join(dir, "env.txt");
  writeFileSync(txt, `${lines.join("\n")}\n`);
  const one = path.join(dir, "one.img");
  sh("mkenvimage", [...(redundant ? ["-r"] : []), "-s", String(SIZE), "-o", one, txt]);
  const img = path.join(dir, "env.img");
  writeFileSync(img, redundant ? Buffer.concat([readFileSync(one), readFileSync(one)]) : readFileSync(one));
  const fwcfg = path.join(dir, "fw_env.config");
  writeFileSync(
    fwcfg,
    `${img} 0x0 0x${SIZE.toString(16)}\n${redundant ? `${img} 0x${SIZE.toString(16)} 0x${SIZE.toString(16)}\n` : ""}`,
  );
  return { img, fwcfg };
}
const printenv = (fwcfg: string) => sh("fw_printenv", ["-c", fwcfg]);
const get = (fwcfg: string, name: string) => sh("fw_printenv", ["-c", fwcfg, "-n", name]).trim();
function config(fwcfg: string, scheme: "rauc" | "mender" | "swupdate", cmdline = "", extra = "") {
  const c = path.join(dir, "cmdline");
  writeFileSync(c, `console=ttyS0 ${cmdline}${cmdline.includes("root=") ? "" : " root=/dev/vda2"}\n`);
  return writeConfig(
    dir,
    `bootState:\n  backend: uboot\n  scheme: ${scheme}\n  envConfig: ${fwcfg}\n  cmdline: ${c}\n${extra}`,
  );
}
const ok = (args: string[], cfg: string) => {
  const r = cli([...args, "--config", cfg]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout;
};
const status = (cfg: string) => JSON.parse(ok(["status", "--json"], cfg));
const RAUC = ["BOOT_ORDER=A B", "BOOT_A_LEFT=3", "BOOT_B_LEFT=3", "bootcmd=run rauc_boot; echo spaces kept"];

describe("uboot backend, RAUC's variables", () => {
  for (const redundant of [false, true]) {
    it(`${redundant ? "redundant" : "single"} env: arm B, U-Boot's count, a trial, bless; fw_printenv reads each write`, () => {
      const { fwcfg } = env(RAUC, redundant);
      expect(status(config(fwcfg, "rauc", "rauc.slot=A"))).toMatchObject({
        backend: "uboot",
        bootedSlot: "A",
        trialBoot: false,
        state: "good",
      });
      expect(ok(["arm", "--slot", "B"], config(fwcfg, "rauc", "rauc.slot=A"))).toMatch(
        /^armed B for a trial boot with 3 tries in /,
      );
      expect(get(fwcfg, "BOOT_ORDER")).toBe("B A");
      expect(get(fwcfg, "BOOT_B_LEFT")).toBe("3");
      // U-Boot's boot script takes a try and boots B.
      sh("fw_setenv", ["-c", fwcfg, "BOOT_B_LEFT", "2"]);
      const cfgB = config(fwcfg, "rauc", "rauc.slot=B");
      expect(status(cfgB)).toMatchObject({
        bootedSlot: "B",
        trialBoot: true,
        state: "indeterminate",
        triesLeft: 2,
      });
      expect(ok(["mark-good"], cfgB)).toMatch(/^marked B good in /);
      expect(get(fwcfg, "BOOT_B_LEFT")).toBe("3");
      expect(ok(["mark-good"], cfgB)).toMatch(/^marked B good: already so, nothing to do\n$/);
      expect(get(fwcfg, "bootcmd")).toBe("run rauc_boot; echo spaces kept");
    });
  }

  it("mark-bad takes the slot out of BOOT_ORDER with 0 left: byte for byte what fw_setenv makes of the same changes", () => {
    const { img, fwcfg } = env(["BOOT_ORDER=B A", "BOOT_A_LEFT=3", "BOOT_B_LEFT=2", "x=1"]);
    const theirs = path.join(dir, "theirs.img");
    writeFileSync(theirs, readFileSync(img));
    const theirCfg = path.join(dir, "theirs.config");
    writeFileSync(theirCfg, `${theirs} 0x0 0x${SIZE.toString(16)}\n`);
    const batch = path.join(dir, "batch.txt");
    writeFileSync(batch, "BOOT_ORDER=A\nBOOT_B_LEFT=0\n");
    sh("fw_setenv", ["-c", theirCfg, "-s", batch]);
    expect(ok(["mark-bad"], config(fwcfg, "rauc", "rauc.slot=B"))).toMatch(/^marked B bad in /);
    expect(get(fwcfg, "BOOT_ORDER")).toBe("A");
    expect(get(fwcfg, "BOOT_B_LEFT")).toBe("0");
    expect(readFileSync(img).equals(readFileSync(theirs))).toBe(true);
    // The fallback boot of A sees the failed trial.
    expect(status(config(fwcfg, "rauc", "rauc.slot=A"))).toMatchObject({ bootedSlot: "A", trialBoot: false });
  });

  it("a bad CRC, a missing env, a wrong fw_env.config: one line naming it, nothing written", () => {
    const { img, fwcfg } = env(RAUC);
    const bytes = readFileSync(img);
    bytes.writeUInt8(bytes.readUInt8(20) ^ 1, 20);
    writeFileSync(img, bytes);
    const cfg = config(fwcfg, "rauc", "rauc.slot=B");
    for (const args of [["status"], ["mark-good"], ["mark-bad"]]) {
      const r = cli([...args, "--config", cfg]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `bootwarden: uboot: ${img}@0x0: no valid environment (bad CRC); not writing a new one\n`,
      );
    }
    expect(readFileSync(img).equals(bytes)).toBe(true);
    writeFileSync(fwcfg, `${img} zero 0x400\n`);
    expect(cli(["status", "--config", cfg]).stderr).toBe(
      `bootwarden: uboot: ${fwcfg}:1: not "device offset size" (${img} zero 0x400)\n`,
    );
    writeFileSync(fwcfg, `${path.join(dir, "missing.img")} 0x0 0x400\n`);
    expect(cli(["status", "--config", cfg]).stderr).toMatch(
      /^bootwarden: uboot: .*missing\.img: cannot read the environment: .*ENOENT/,
    );
  });

  it("a single copy read halfway through fw_setenv's rewrite: read again under the locks, not refused as corrupt", async () => {
    const { img, fwcfg } = env(RAUC);
    const good = readFileSync(img);
    const torn = Buffer.from(good);
    torn.writeUInt8(torn.readUInt8(20) ^ 1, 20); // what a reader sees while the copy is rewritten in place
    writeFileSync(img, torn);
    // A writer as fw_setenv is one (libubootenv's lock held around its rewrite) puts the whole env back, then lets go.
    const lock = "/var/lock/fw_printenv.lock";
    writeFileSync(`${img}.good`, good);
    const holder = spawn("flock", [
      "--exclusive",
      lock,
      "sh",
      "-c",
      `echo held; sleep 1; cp ${img}.good ${img}`,
    ]);
    try {
      await new Promise((r) => holder.stdout.once("data", r));
      const cfg = config(fwcfg, "rauc", "rauc.slot=A");
      expect(status(cfg)).toMatchObject({ bootedSlot: "A" });
      expect(ok(["arm", "--slot", "B", "--tries", "2"], cfg)).toMatch(
        /^armed B for a trial boot with 2 tries/,
      );
      expect(get(fwcfg, "BOOT_B_LEFT")).toBe("2");
    } finally {
      holder.kill();
    }
  });

  it("fw_setenv writing at the same time never loses bootwarden's update, nor bootwarden its", async () => {
    const { fwcfg } = env(RAUC);
    const cfgA = config(fwcfg, "rauc", "rauc.slot=A");
    const other = spawn("sh", ["-c", `for i in $(seq 1 60); do fw_setenv -c ${fwcfg} counter $i; done`]);
    const done = new Promise((r) => other.on("exit", r));
    for (let i = 0; i < 6; i++) {
      ok(["arm", "--slot", "B", "--tries", String((i % 3) + 1)], cfgA);
      expect(get(fwcfg, "BOOT_B_LEFT")).toBe(String((i % 3) + 1));
    }
    await done;
    expect(get(fwcfg, "counter")).toBe("60");
    expect(get(fwcfg, "BOOT_ORDER")).toBe("B A");
    expect(printenv(fwcfg)).toMatch(/^BOOT_B_LEFT=3$/m);
  });
});

describe("uboot backend, Mender's variables", () => {
  const MENDER = [
    "mender_boot_part=2",
    "mender_boot_part_hex=2",
    "upgrade_available=0",
    "bootcount=0",
    "bootlimit=1",
  ];

  it("an image builder arms B with no rauc.slot= on its kernel command line; B's last try is still a trial", () => {
    const { fwcfg } = env(RAUC);
    expect(ok(["arm", "--slot", "B", "--tries", "1"], config(fwcfg, "rauc"))).toMatch(
      /^armed B for a trial boot with 1 try in /,
    );
    expect(get(fwcfg, "BOOT_ORDER")).toBe("B A");
    sh("fw_setenv", ["-c", fwcfg, "BOOT_B_LEFT", "0"]); // U-Boot took the one try
    const cfgB = config(fwcfg, "rauc", "rauc.slot=B");
    expect(status(cfgB)).toMatchObject({ trialBoot: true, state: "indeterminate", triesLeft: 0 });
    expect(ok(["mark-bad"], cfgB)).toMatch(/^marked B bad in /);
    expect(printenv(fwcfg)).toMatch(/^BOOT_B_LEFT=0\nBOOT_ORDER=A\n/m);
  });
  it("arm as Mender's client does; the trial is marked bad back to the other part; or blessed (the commit)", () => {
    const { fwcfg } = env(MENDER);
    const on2 = config(fwcfg, "mender", "root=/dev/mmcblk0p2");
    expect(status(on2)).toMatchObject({ bootedSlot: "2", trialBoot: false });
    ok(["arm", "--slot", "3"], on2);
    expect(printenv(fwcfg)).toBe(
      "bootcount=0\nbootlimit=1\nmender_boot_part=3\nmender_boot_part_hex=3\nupgrade_available=1\n",
    );
    // Armed, not yet rebooted: part 2 still runs, and is no trial (a daemon restarted now must not bless 3).
    expect(status(on2)).toMatchObject({ bootedSlot: "2", trialBoot: false, state: "good", nextBoot: "3" });
    sh("fw_setenv", ["-c", fwcfg, "bootcount", "1"]); // U-Boot's bootcount on the way into 3
    const on3 = config(fwcfg, "mender", "root=/dev/mmcblk0p3");
    expect(status(on3)).toMatchObject({
      bootedSlot: "3",
      trialBoot: true,
      state: "indeterminate",
      nextBoot: "2",
    });
    expect(ok(["mark-bad"], on3)).toMatch(/^marked 3 bad in /);
    expect(get(fwcfg, "mender_boot_part")).toBe("2");
    expect(get(fwcfg, "upgrade_available")).toBe("0");
    // Until the reboot, 3 still runs, marked bad; a second mark bad is already so (it once pointed back at 3).
    const marked = printenv(fwcfg);
    expect(status(on3)).toMatchObject({ bootedSlot: "3", trialBoot: false, state: "bad", nextBoot: "2" });
    expect(ok(["mark-bad"], on3)).toMatch(/^marked 3 bad: already so, nothing to do/);
    expect(printenv(fwcfg)).toBe(marked);
    ok(["arm", "--slot", "3"], on2);
    sh("fw_setenv", ["-c", fwcfg, "bootcount", "1"]);
    expect(ok(["mark-good"], on3)).toMatch(/^marked 3 good in /);
    expect(get(fwcfg, "mender_boot_part")).toBe("3");
    expect(get(fwcfg, "upgrade_available")).toBe("0");
  });

  it("SWUpdate: arm sets ustate 1; U-Boot counts; bad points the slot variable back with ustate 3; good confirms", () => {
    const { img, fwcfg } = env([
      "bootcount=0",
      "bootlimit=3",
      "rootpart=a",
      "upgrade_available=0",
      "ustate=0",
      "bootcmd=run swu_boot",
    ]);
    const cfg = config(fwcfg, "swupdate", "", "  slotVariable: rootpart\n  parts: [a, b]\n");
    expect(status(cfg)).toMatchObject({
      bootedSlot: "a",
      trialBoot: false,
      state: "good",
    });
    expect(ok(["arm", "--slot", "b"], cfg)).toMatch(/^armed b for a trial boot with 3 tries in /);
    expect(printenv(fwcfg)).toBe(
      "bootcmd=run swu_boot\nbootcount=0\nbootlimit=3\nrootpart=b\nupgrade_available=1\nustate=1\n",
    );
    sh("fw_setenv", ["-c", fwcfg, "bootcount", "1"]); // U-Boot's bootcount on the way into b
    expect(status(cfg)).toMatchObject({
      bootedSlot: "b",
      trialBoot: true,
      state: "indeterminate",
      triesLeft: 2,
    });
    // mark-bad: byte for byte what fw_setenv makes of the same changes.
    const theirs = path.join(dir, "theirs.img");
    writeFileSync(theirs, readFileSync(img));
    const theirCfg = path.join(dir, "theirs.config");
    writeFileSync(theirCfg, `${theirs} 0x0 0x${SIZE.toString(16)}\n`);
    const batch = path.join(dir, "batch.txt");
    writeFileSync(batch, "rootpart=a\nustate=3\nupgrade_available=0\n");
    sh("fw_setenv", ["-c", theirCfg, "-s", batch]);
    expect(ok(["mark-bad"], cfg)).toMatch(/^marked b bad in /);
    expect(readFileSync(img).equals(readFileSync(theirs))).toBe(true);
    // The fallback boot of a sees the failed update.
    expect(status(cfg)).toMatchObject({
      bootedSlot: "a",
      trialBoot: false,
      rolledBackFrom: { slot: "b", reason: "ustate=3: the update failed" },
    });
    ok(["arm", "--slot", "b"], cfg);
    expect(ok(["mark-good"], cfg)).toMatch(/^marked b good in /);
    expect(get(fwcfg, "ustate")).toBe("0");
    expect(get(fwcfg, "upgrade_available")).toBe("0");
    expect(get(fwcfg, "rootpart")).toBe("b");
  });

  it("SWUpdate with named slots and rootParts: the booted slot from root=, a second mark bad already so", () => {
    const { fwcfg } = env(["bootcount=1", "bootlimit=3", "rootpart=b", "upgrade_available=1", "ustate=1"]);
    const extra = '  slotVariable: rootpart\n  parts: [a, b]\n  rootParts: ["2", "3"]\n';
    const onB = config(fwcfg, "swupdate", "root=/dev/mmcblk0p3", extra);
    expect(status(onB)).toMatchObject({ bootedSlot: "b", trialBoot: true, nextBoot: "b" });
    expect(ok(["mark-bad"], onB)).toMatch(/^marked b bad in /);
    const marked = printenv(fwcfg);
    expect(marked).toMatch(/^rootpart=a$/m);
    expect(status(onB)).toMatchObject({ bootedSlot: "b", state: "bad", nextBoot: "a" });
    expect(ok(["mark-bad"], onB)).toMatch(/^marked b bad: already so, nothing to do/);
    expect(printenv(fwcfg)).toBe(marked);
    // rootParts on another scheme: one line naming the key, nothing read or written.
    const r = cli(["status", "--config", config(fwcfg, "mender", "", '  rootParts: ["2", "3"]\n')]);
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/^bootwarden: .*bootState\.rootParts.*only for scheme swupdate/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("check-config warns when root= names none of Mender's parts (the booted part would come from the variable)", () => {
    const { fwcfg } = env(["mender_boot_part=2", "upgrade_available=0"]);
    const warning =
      "bootwarden: warning: bootState: root= on the kernel command line is none of the partitions 2, 3: the booted slot is taken from mender_boot_part, which a mark bad rewrites";
    const lines = (cmdline: string) =>
      cli(["check-config", "--config", config(fwcfg, "mender", cmdline)], NO_BUS).stderr.split("\n");
    expect(lines("root=/dev/mapper/root")).toContain(warning);
    expect(
      lines("root=/dev/mmcblk0p2").filter((l) => l.includes("root= on the kernel command line")),
    ).toEqual([]);
  });

  it("SWUpdate without slotVariable: one line naming the key, exit 78", () => {
    const { fwcfg } = env(["ustate=0"]);
    const r = cli(["status", "--config", config(fwcfg, "swupdate")]);
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/^bootwarden: .*bootState\.slotVariable.*scheme swupdate needs slotVariable/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
