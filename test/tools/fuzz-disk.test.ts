// Fuzz of the GPT writer on real images (made by sgdisk): random damage to the tables, then a write. A rejected
// write must leave every byte as it was; an accepted one must leave two intact, equal copies.
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BootwardenError } from "../../src/base/errors.js";
import { readGptDisk, updateAttributes } from "../../src/bootstate/gpt/disk.js";
import { requireTool, sh, tempDir } from "../helpers/tools.js";

const SIZE = 2 << 20;
let dir: string;
let cleanup: () => void;
let img: string;
let pristine: Buffer;

const io = (file: string, fn: (fd: number) => void) => {
  const fd = openSync(file, "r+");
  try {
    fn(fd);
  } finally {
    closeSync(fd);
  }
};
const regions = [
  [0, 34 * 512],
  [SIZE - 33 * 512, SIZE],
] as const;
const snapshot = () => {
  const h = createHash("sha256");
  io(img, (fd) => {
    for (const [a, b] of regions) {
      const buf = Buffer.alloc(b - a);
      readSync(fd, buf, 0, buf.length, a);
      h.update(buf);
    }
  });
  return h.digest("hex");
};
const restore = () => io(img, (fd) => writeSync(fd, pristine, 0, pristine.length, 0));

beforeAll(() => {
  requireTool("sgdisk");
  ({ dir, cleanup } = tempDir());
  img = path.join(dir, "fuzz.img");
  sh("truncate", ["-s", String(SIZE), img]);
  const t = "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6";
  sh("sgdisk", [
    "-n",
    "1:2048:+512K",
    "-t",
    `1:${t}`,
    "-c",
    "1:USR-A",
    "-n",
    "2:0:+512K",
    "-t",
    `2:${t}`,
    "-c",
    "2:USR-B",
    img,
  ]);
  pristine = readFileSync(img);
});
afterAll(() => cleanup());

describe("GPT writer fuzz", () => {
  it("2,000 damaged tables: a refused write changes nothing, an accepted one leaves two equal intact copies", async () => {
    const damage = fc.array(
      fc.record({
        at: fc.oneof(
          fc.integer({ min: 512, max: 34 * 512 - 1 }),
          fc.integer({ min: SIZE - 33 * 512, max: SIZE - 1 }),
        ),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 4 },
    );
    let refused = 0;
    let written = 0;
    await fc.assert(
      fc.asyncProperty(damage, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), async (edits, attrs) => {
        restore();
        io(img, (fd) => {
          for (const e of edits) writeSync(fd, Buffer.from([e.byte]), 0, 1, e.at);
        });
        const before = snapshot();
        try {
          await updateAttributes(img, () => new Map([[2, attrs]]));
        } catch (err) {
          expect(err).toBeInstanceOf(BootwardenError);
          expect(snapshot()).toBe(before);
          refused++;
          return;
        }
        written++;
        const d = await readGptDisk(img);
        expect(typeof d.primary).not.toBe("string");
        expect(typeof d.backup).not.toBe("string");
        if (typeof d.primary !== "string" && typeof d.backup !== "string")
          expect(d.primary.array.equals(d.backup.array)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(refused + written).toBe(2000);
    expect(written).toBeGreaterThan(0);
  });
});
