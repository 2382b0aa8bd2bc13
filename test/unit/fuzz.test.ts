// Fuzz of every parser that reads untrusted bytes or text: 10,000 generated inputs each per run. Each parser must
// answer with a value or a reason, never crash; the config loader only ever throws its own one-line error.
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BootwardenError } from "../../src/base/errors.js";
import { bootedRefFromCmdline } from "../../src/bootstate/gpt/booted.js";
import { layoutProblem, parseEntries, parseHeader } from "../../src/bootstate/gpt/table.js";
import { parseEnvBlock, SIGNATURE } from "../../src/bootstate/grubenv/codec.js";
import { greenboot, kairos } from "../../src/bootstate/grubenv/schemes.js";
import { validateConfig } from "../../src/config/load.js";

const RUNS = { numRuns: 10_000 };

/** A valid-looking header sector with fields drawn at random, so parsing goes past the signature and CRC checks. */
const header = fc
  .record({
    size: fc.oneof(fc.constant(92), fc.integer({ min: 0, max: 1024 })),
    myLba: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    entriesLba: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    num: fc.oneof(fc.constant(128), fc.integer({ min: 0, max: 0xffffffff })),
    entrySize: fc.oneof(fc.constant(128), fc.integer({ min: 0, max: 0xffffffff })),
    noise: fc.uint8Array({ minLength: 512, maxLength: 512 }),
    validCrc: fc.boolean(),
  })
  .map((h) => {
    const b = Buffer.from(h.noise);
    b.write("EFI PART", 0, "latin1");
    b.writeUInt32LE(h.size, 12);
    b.writeBigUInt64LE(h.myLba, 24);
    b.writeBigUInt64LE(h.entriesLba, 72);
    b.writeUInt32LE(h.num, 80);
    b.writeUInt32LE(h.entrySize, 84);
    if (h.validCrc && h.size >= 92 && h.size <= 512) {
      b.writeUInt32LE(0, 16);
      b.writeUInt32LE(crc32(b.subarray(0, h.size)), 16);
    }
    return b;
  });

describe("fuzz", () => {
  it("GPT headers and entry arrays: a header or a reason, entries and layout never throw", () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 4096 }), (sector, arr) => {
        const h = parseHeader(sector);
        if (typeof h === "string") return;
        const array = Buffer.alloc(Math.min(h.numEntries * h.entrySize, 1 << 20));
        Buffer.from(arr).copy(array);
        const entries = parseEntries({ ...h, numEntries: Math.floor(array.length / h.entrySize) }, array);
        layoutProblem(h, entries);
      }),
      RUNS,
    );
  });

  it("grubenv blocks: a block or a reason; schemes assess any variables", () => {
    const bytes = fc.oneof(
      fc.uint8Array({ minLength: 1024, maxLength: 1024 }),
      fc
        .string({ maxLength: 1000 })
        .map((s) => Buffer.from((SIGNATURE + s).padEnd(1024, "#").slice(0, 1024), "latin1")),
    );
    fc.assert(
      fc.property(bytes, fc.string({ maxLength: 80 }), (b, cmdline) => {
        const block = parseEnvBlock(b);
        if (typeof block === "string") return;
        const env = new Map(block.lines.filter((l) => l.name).map((l) => [l.name!, l.value!]));
        for (const s of [greenboot, kairos]) expect(s.assess(env, cmdline).slots.length).toBe(2);
      }),
      RUNS,
    );
  });

  it("configs: a valid Config or one BootwardenError line naming the file, never another exception", () => {
    const leaf = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(
        "10m",
        "1e308",
        "720h",
        "-1s",
        "0",
        "PARTLABEL=USR-B",
        "/run/x",
        "gpt",
        "grubenv",
        "kairos",
      ),
    );
    const keys = fc.constantFrom(
      "bootState",
      "backend",
      "disk",
      "booted",
      "assessment",
      "deadline",
      "settle",
      "critical",
      "wanted",
      "units",
      "flags",
      "failFlags",
      "hooks",
      "timeout",
      "monitor",
      "schedule",
      "__proto__",
      "constructor",
      "x",
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(keys, tie("node"), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(keys, tree, { maxKeys: 5 }), (raw) => {
        try {
          validateConfig(raw, "fuzz.yaml");
        } catch (err) {
          expect(err).toBeInstanceOf(BootwardenError);
          expect((err as Error).message).toMatch(/^config: fuzz\.yaml: /);
          expect((err as Error).message).not.toContain("\n");
        }
      }),
      RUNS,
    );
  });

  it("kernel command lines: a slot reference or none, never a throw", () => {
    const word = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom(
        'root="PARTLABEL=USR B"',
        "verity.usr=PARTUUID=",
        "mount.usr=/dev/mapper/usr",
        '"',
        "usr=PARTLABEL=",
      ),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (words) => {
        const ref = bootedRefFromCmdline(words.join(" "));
        if (ref) expect(ref.value.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });
});
