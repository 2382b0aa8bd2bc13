import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  bootedRefFromCmdline,
  bootedRefFromMounts,
  parseSlotRef,
  splitCmdline,
} from "../../src/bootstate/gpt/booted.js";

describe("kernel command line", () => {
  it("splits at unquoted spaces and drops the quotes wherever they stand", () => {
    expect([...splitCmdline('a=1 root="PARTLABEL=USR B" "x=y z" quiet')]).toEqual([
      ["a", "1"],
      ["root", "PARTLABEL=USR B"],
      ["x", "y z"],
    ]);
  });

  it.each([
    [
      "mount.usr=/dev/mapper/usr verity.usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132",
      "PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132",
    ],
    ["mount.usr=PARTLABEL=USR-B root=LABEL=ROOT", "PARTLABEL=USR-B"],
    ["usr=PARTLABEL=USR-A root=PARTLABEL=ROOT", "PARTLABEL=USR-A"],
    ["root=PARTUUID=abc", "PARTUUID=abc"],
    ['root="PARTLABEL=USR B"', "PARTLABEL=USR B"],
    ["root=/dev/disk/by-partlabel/USR\\x20B", "PARTLABEL=USR B"],
    ["root=/dev/disk/by-partuuid/abc-def", "PARTUUID=abc-def"],
  ])("%s -> %s", (line, want) => {
    const ref = bootedRefFromCmdline(line);
    expect(ref && `${ref.kind}=${ref.value}`).toBe(want);
  });

  it.each(["root=/dev/vda3", "mount.usr=/dev/mapper/usr", "", "root=LABEL=ROOT", "root=PARTLABEL="])(
    "%j names no slot",
    (line) => expect(bootedRefFromCmdline(line)).toBeUndefined(),
  );

  it("slot references as users write them", () => {
    expect(parseSlotRef(" PARTLABEL=USR-B ")).toEqual({ kind: "PARTLABEL", value: "USR-B" });
    expect(parseSlotRef("LABEL=x")).toBeUndefined();
  });
});

describe("the device behind /usr", () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    delete process.env.BOOTWARDEN_ROOT;
  });

  it("follows device-mapper (dm-verity) down to the partition and takes its label", async () => {
    root = mkdtempSync(path.join(tmpdir(), "bootwarden-sys-"));
    const p = (s: string) => path.join(root!, s);
    mkdirSync(p("proc/self"), { recursive: true });
    writeFileSync(
      p("proc/self/mountinfo"),
      "22 1 8:9 / / rw - ext4 /dev/vda9 rw\n25 22 253:0 / /usr ro - ext4 /dev/mapper/usr ro\n",
    );
    mkdirSync(p("sys/devices/virtual/block/dm-0/slaves"), { recursive: true });
    mkdirSync(p("sys/dev/block"), { recursive: true });
    mkdirSync(p("sys/class/block/vda4"), { recursive: true });
    symlinkSync("../../devices/virtual/block/dm-0", p("sys/dev/block/253:0"));
    symlinkSync("../../devices/virtual/block/dm-0", p("sys/class/block/dm-0"));
    writeFileSync(p("sys/devices/virtual/block/dm-0/slaves/vda4"), "");
    writeFileSync(
      p("sys/class/block/vda4/uevent"),
      "MAJOR=254\nMINOR=4\nDEVNAME=vda4\nPARTN=4\nPARTNAME=USR-B\n",
    );
    process.env.BOOTWARDEN_ROOT = root;
    expect(await bootedRefFromMounts()).toEqual({ kind: "PARTLABEL", value: "USR-B" });
  });
});
