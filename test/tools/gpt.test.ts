import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { crc32 } from "node:zlib";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { confirmMarkGood } from "../../src/actions/confirm-mark.js";
import { createBackend } from "../../src/bootstate/registry.js";
import { configSchema } from "../../src/config/schema.js";
import { hastyClock, memoryLogger } from "../fakes/fake-ports.js";
import {
  cgptAttrs,
  cli,
  makeFlatcarDisk,
  requireTool,
  sgdiskVerify,
  sh,
  tempDir,
  writeConfig,
} from "../helpers/tools.js";

// Needs cgpt and sgdisk (Debian: cgpt, gdisk); .ci/run installs them.
let dir: string;
let cleanup: () => void;
let disk: string;
const hash = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const config = (booted: string, extra = "") =>
  writeConfig(dir, `bootState:\n  backend: gpt\n  disk: ${disk}\n  booted: ${booted}\n${extra}`);
const json = (cfg: string) => {
  const r = cli(["status", "--json", "--config", cfg]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
};
/** Flatcar's GRUB between boots: the disk's USR-B entry had tries decremented when it was chosen. */
const bootTrial = () => sh("cgpt", ["add", "-i", "2", "-T", String(cgptAttrs(disk, 2).tries - 1), disk]);

beforeAll(() => {
  requireTool("cgpt");
  requireTool("sgdisk");
});
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  disk = path.join(dir, "disk.img");
  makeFlatcarDisk(disk);
});
afterEach(() => cleanup());

describe("gpt backend against cgpt and sgdisk", () => {
  it("reports a normal boot on the good slot", () => {
    const s = json(config("PARTLABEL=USR-A"));
    expect(s).toMatchObject({
      backend: "gpt",
      bootedSlot: "PARTLABEL=USR-A",
      trialBoot: false,
      state: "good",
    });
    expect(s.slots.map((x: { name: string }) => x.name)).toEqual(["PARTLABEL=USR-A", "PARTLABEL=USR-B"]);
  });

  it("arms a slot the way cgpt add -S0 -T1 + prioritize does, and sgdisk finds no problem", () => {
    const r = cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", config("PARTLABEL=USR-A")]);
    expect(r.status).toBe(0);
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 2, tries: 1, successful: false });
    expect(cgptAttrs(disk, 1)).toEqual({ priority: 1, tries: 0, successful: true });
    expect(sgdiskVerify(disk)).toMatch(/No problems found/);
  });

  it("sees the trial boot, marks it good once, and a second mark-good changes nothing", () => {
    const cfgA = config("PARTLABEL=USR-A");
    cli(["arm", "--slot", "PARTLABEL=USR-B", "--tries", "2", "--config", cfgA]);
    bootTrial();
    const cfgB = config("PARTLABEL=USR-B");
    expect(json(cfgB)).toMatchObject({
      bootedSlot: "PARTLABEL=USR-B",
      trialBoot: true,
      state: "indeterminate",
      triesLeft: 1,
    });
    const first = cli(["mark-good", "--config", cfgB]);
    expect(first.status).toBe(0);
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 2, tries: 0, successful: true });
    expect(sgdiskVerify(disk)).toMatch(/No problems found/);
    const before = hash(disk);
    const second = cli(["mark-good", "--config", cfgB]);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/nothing to do/);
    expect(hash(disk)).toBe(before);
    expect(json(cfgB)).toMatchObject({ trialBoot: false, state: "good" });
  });

  it("a mark good that a stale cgpt wrote over is made again when read back", async () => {
    cli(["arm", "--slot", "PARTLABEL=USR-B", "--tries", "2", "--config", config("PARTLABEL=USR-A")]);
    bootTrial();
    const backend = createBackend(
      configSchema.parse({ bootState: { backend: "gpt", disk, booted: "PARTLABEL=USR-B" } }).bootState,
    );
    const trial = cgptAttrs(disk, 2);
    expect(trial).toEqual({ priority: 2, tries: 1, successful: false });
    expect((await backend.markGood()).changed).toBe(true);
    expect(cgptAttrs(disk, 2).successful).toBe(true);
    // A cgpt that read the table before the mark writes USR-B's old attributes back after it (cgpt takes no lock).
    sh("cgpt", ["add", "-i", "2", "-S", "0", "-T", String(trial.tries), "-P", String(trial.priority), disk]);
    expect(cgptAttrs(disk, 2)).toEqual(trial);
    const { log, records } = memoryLogger();
    await confirmMarkGood(
      { backend, log, clock: hastyClock },
      { slot: "PARTLABEL=USR-B", id: (await backend.read()).bootedId },
    );
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 2, tries: 0, successful: true });
    expect(sgdiskVerify(disk)).toMatch(/No problems found/);
    expect(records.map((r) => r.msg)).toEqual([
      expect.stringMatching(
        /^slot PARTLABEL=USR-B: another writer of .*disk\.img undid the mark good .*; marked PARTLABEL=USR-B good/,
      ),
    ]);
  });

  it("marks a failed trial bad so that the bootloader's rule picks the previous slot", () => {
    cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", config("PARTLABEL=USR-A")]);
    bootTrial();
    const cfgB = config("PARTLABEL=USR-B");
    expect(cli(["mark-bad", "--config", cfgB]).status).toBe(0);
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 0, tries: 0, successful: false });
    expect(cgptAttrs(disk, 1)).toEqual({ priority: 1, tries: 0, successful: true });
    expect(sgdiskVerify(disk)).toMatch(/No problems found/);
    // back on A, no trial
    expect(json(config("PARTLABEL=USR-A"))).toMatchObject({ trialBoot: false, state: "good" });
  });

  it("recognises a boot where GRUB skipped a trial that ran out of tries", () => {
    cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", config("PARTLABEL=USR-A")]);
    bootTrial(); // B had its one try and died without a verdict: GRUB now boots A
    const s = json(config("PARTLABEL=USR-A"));
    expect(s.trialBoot).toBe(false);
    expect(s.rolledBackFrom.slot).toBe("PARTLABEL=USR-B");
  });

  it("refuses to mark the only bootable slot bad", () => {
    const r = cli(["mark-bad", "--config", config("PARTLABEL=USR-A")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no other slot is bootable/);
    expect(cgptAttrs(disk, 1)).toEqual({ priority: 1, tries: 0, successful: true });
  });

  it("leaves attribute bits that are not ours (DPS read-only bit 60, legacy-boot bit 2)", () => {
    sh("sgdisk", ["-A", "2:set:60", "-A", "2:set:2", disk]);
    cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", config("PARTLABEL=USR-A")]);
    const shown = sh("sgdisk", ["-A", "2:show", disk]);
    expect(shown).toMatch(/2:2:1 \(legacy BIOS bootable\)/);
    expect(shown).toMatch(/2:60:1 \(read-only\)/);
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 2, tries: 1, successful: false });
  });

  it.each([
    // Flatcar with dm-verity: mount.usr= names only the mapper device, verity.usr= the partition.
    (u: string) =>
      `BOOT_IMAGE=/flatcar/vmlinuz-b mount.usr=/dev/mapper/usr verity.usr=PARTUUID=${u} root=LABEL=ROOT`,
    (u: string) => `BOOT_IMAGE=/vmlinuz usr=PARTUUID=${u.toUpperCase()} root=LABEL=ROOT`,
    (u: string) => `root=/dev/disk/by-partuuid/${u} ro`,
    () => 'quiet root="PARTLABEL=USR-B" rw',
    () => '"root=PARTLABEL=USR-B" rw',
  ])("finds the booted slot from the kernel command line (%#)", (line) => {
    const uuid = sh("cgpt", ["show", "-i", "2", "-u", disk]).trim();
    const cmdline = path.join(dir, "cmdline");
    writeFileSync(cmdline, `${line(uuid)}\n`);
    const cfg = writeConfig(dir, `bootState:\n  backend: gpt\n  disk: ${disk}\n  cmdline: ${cmdline}\n`);
    expect(json(cfg).bootedSlot).toBe("PARTLABEL=USR-B");
  });

  it('a quoted label with a space on the command line (root="PARTLABEL=USR B")', () => {
    sh("sgdisk", ["-c", "2:USR B", disk]);
    const cmdline = path.join(dir, "cmdline");
    writeFileSync(cmdline, 'BOOT_IMAGE=/vmlinuz root="PARTLABEL=USR B" ro\n');
    const cfg = writeConfig(dir, `bootState:\n  backend: gpt\n  disk: ${disk}\n  cmdline: ${cmdline}\n`);
    expect(json(cfg).bootedSlot).toBe("PARTLABEL=USR B");
  });

  it("works on a block device as on an image file (a loop device; needs root)", () => {
    const dev = sh("losetup", ["-f", "--show", disk]).trim();
    try {
      const cfg = writeConfig(dir, `bootState:\n  backend: gpt\n  disk: ${dev}\n  booted: PARTLABEL=USR-A\n`);
      expect(cli(["arm", "--slot", "PARTLABEL=USR-B", "--tries", "3", "--config", cfg]).status).toBe(0);
      expect(json(cfg)).toMatchObject({ source: dev, bootedSlot: "PARTLABEL=USR-A" });
    } finally {
      sh("losetup", ["-d", dev]);
    }
    expect(cgptAttrs(disk, 2)).toEqual({ priority: 2, tries: 3, successful: false });
    expect(sgdiskVerify(disk)).toMatch(/No problems found/);
  });

  describe("bad input changes nothing", () => {
    const expectRefused = (args: string[], pattern: RegExp) => {
      const before = hash(disk);
      const r = cli(args);
      expect(r.status).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
      expect(hash(disk)).toBe(before);
    };

    it.each([
      ["primary", 512 + 16],
      ["backup", -512 + 16],
    ] as const)(
      "%s header corrupt: read from the other copy, shown in status, repaired by the next write",
      (which, off) => {
        const buf = readFileSync(disk);
        const at = off < 0 ? buf.length + off : off;
        buf.writeUInt32LE((buf.readUInt32LE(at) ^ 1) >>> 0, at);
        writeFileSync(disk, buf);
        // sgdisk repairs in memory and still says "No problems found"; its caution tells the damage.
        expect(sgdiskVerify(disk)).toMatch(/corrupt GPT/);
        const cfg = config("PARTLABEL=USR-A");
        const s = json(cfg);
        expect(s.bootedSlot).toBe("PARTLABEL=USR-A");
        expect(s.problems).toEqual([
          expect.stringMatching(new RegExp(`^${which} GPT is damaged \\(bad header CRC\\)`)),
        ]);
        const r = cli(["arm", "--slot", "PARTLABEL=USR-B", "--config", cfg]);
        expect(r.stderr).toBe("");
        expect(r.stdout).toMatch(
          new RegExp(`armed PARTLABEL=USR-B .* \\(repaired first: ${which} GPT is damaged`),
        );
        expect(sgdiskVerify(disk)).toMatch(/^No problems found/m);
        expect(sgdiskVerify(disk)).not.toMatch(/corrupt GPT/);
        expect(cgptAttrs(disk, 2)).toEqual({ priority: 2, tries: 1, successful: false });
        expect(json(cfg).problems).toBeUndefined();
      },
    );

    it("both copies corrupt", () => {
      const buf = readFileSync(disk);
      buf.writeUInt32LE((buf.readUInt32LE(512 + 88) ^ 1) >>> 0, 512 + 88); // primary entries CRC
      const last = buf.length - 512;
      buf.write("NOT PART", last, "latin1");
      writeFileSync(disk, buf);
      expectRefused(
        ["status", "--config", config("PARTLABEL=USR-A")],
        /no valid GPT: primary: bad header CRC; backup: bad signature/,
      );
      expectRefused(["mark-good", "--config", config("PARTLABEL=USR-A")], /no valid GPT/);
    });

    it("entry array CRC wrong in both copies", () => {
      const buf = readFileSync(disk);
      const flip = (at: number) => buf.writeUInt8(buf.readUInt8(at) ^ 0xff, at);
      flip(1024 + 200); // primary array byte
      flip(buf.length - 512 - 32 * 512 + 200); // backup array byte
      writeFileSync(disk, buf);
      expectRefused(["status", "--config", config("PARTLABEL=USR-A")], /bad partition entry array CRC/);
    });

    it("an entry size other than 128", () => {
      const buf = readFileSync(disk);
      for (const off of [512, buf.length - 512]) {
        buf.writeUInt32LE(256, off + 84);
        buf.writeUInt32LE(0, off + 16);
        buf.writeUInt32LE(crc32(buf.subarray(off, off + 92)), off + 16);
      }
      writeFileSync(disk, buf);
      expectRefused(["mark-good", "--config", config("PARTLABEL=USR-A")], /unsupported entry size 256/);
    });

    it("a disk with no GPT at all", () => {
      writeFileSync(disk, Buffer.alloc(1 << 20));
      expectRefused(
        ["status", "--config", config("PARTLABEL=USR-A")],
        /no valid GPT: primary: bad signature/,
      );
    });

    it("an unknown slot", () => {
      expectRefused(
        ["status", "--config", config("PARTLABEL=USR-C")],
        /no slot PARTLABEL=USR-C among PARTLABEL=USR-A, PARTLABEL=USR-B/,
      );
      expectRefused(
        ["arm", "--slot", "PARTLABEL=ROOT", "--config", config("PARTLABEL=USR-A")],
        /no slot PARTLABEL=ROOT/,
      );
      expectRefused(
        ["arm", "--slot", "USR-B", "--config", config("PARTLABEL=USR-A")],
        /must be PARTLABEL=<label> or PARTUUID=<guid>/,
      );
    });

    it("a missing disk", () => {
      const cfg = writeConfig(
        dir,
        `bootState:\n  backend: gpt\n  disk: ${dir}/nope.img\n  booted: PARTLABEL=USR-A\n`,
      );
      const r = cli(["status", "--config", cfg]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/nope\.img: cannot open: ENOENT/);
    });
  });
});
