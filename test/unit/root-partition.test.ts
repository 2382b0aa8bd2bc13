import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rootPartition } from "../../src/bootstate/uboot/running.js";

const root = mkdtempSync(path.join(tmpdir(), "bw-root-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(path.join(root, "dev/disk/by-partuuid"), { recursive: true });
writeFileSync(path.join(root, "dev/mmcblk1p5"), "");
symlinkSync("../../mmcblk1p5", path.join(root, "dev/disk/by-partuuid/0f1e-05"));
mkdirSync(path.join(root, "sys/class/block/mmcblk1p5"), { recursive: true });
writeFileSync(path.join(root, "sys/class/block/mmcblk1p5/partition"), "5\n");

describe("the partition number root= names", () => {
  it.each([
    ["console=ttyS0 root=/dev/mmcblk0p2 rootwait", "2"],
    ["root=/dev/sda3", "3"],
    ["root=/dev/nvme0n1p12", "12"],
    ["root=PARTUUID=0f1e-05", "5"],
    ["root=/dev/disk/by-partuuid/0f1e-05", "5"],
    ["root=/dev/vda", undefined],
    ["root=/dev/mapper/root", undefined],
    ["root=PARTUUID=missing", undefined],
    ["root=/dev/../etc/passwd3", undefined],
    ["rootwait ro", undefined],
    ["", undefined],
  ])("%j → %s", async (cmdline, part) => {
    expect(await rootPartition(cmdline, root)).toBe(part);
  });
});
