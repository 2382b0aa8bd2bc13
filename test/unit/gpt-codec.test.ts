import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeAttributes, encodeAttributes, gptprioNext } from "../../src/bootstate/gpt/attributes.js";
import { decodeGuid, encodeGuid } from "../../src/bootstate/gpt/table.js";

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const attrs = fc.record({
  priority: fc.integer({ min: 0, max: 15 }),
  tries: fc.integer({ min: 0, max: 15 }),
  successful: fc.boolean(),
});

describe("GPT attribute codec", () => {
  it("decodes what it encodes and leaves every other bit alone", () => {
    fc.assert(
      fc.property(u64, attrs, (raw, a) => {
        const out = encodeAttributes(raw, a);
        expect(decodeAttributes(out)).toEqual(a);
        const ours = (0xffn << 48n) | (1n << 56n);
        expect(out & ~ours).toBe(raw & ~ours);
        expect(out < 1n << 64n).toBe(true);
      }),
    );
  });

  it("reads the bit positions ChromeOS uses", () => {
    // priority 2 (bits 48-51), tries 1 (52-55), successful (56), plus DPS no-auto (63) untouched
    const raw = (2n << 48n) | (1n << 52n) | (1n << 56n) | (1n << 63n);
    expect(decodeAttributes(raw)).toEqual({ priority: 2, tries: 1, successful: true });
  });

  it("rejects out-of-range values", () => {
    expect(() => encodeAttributes(0n, { priority: 16, tries: 0, successful: false })).toThrow(/priority/);
    expect(() => encodeAttributes(0n, { priority: 1, tries: -1, successful: false })).toThrow(/tries/);
  });
});

describe("gptprio.next", () => {
  const s = (priority: number, tries: number, successful: boolean, id: string) => ({
    priority,
    tries,
    successful,
    id,
  });
  it("picks the highest priority among bootable slots, first on a tie", () => {
    expect(gptprioNext([s(1, 0, true, "A"), s(2, 1, false, "B")])?.id).toBe("B");
    expect(gptprioNext([s(1, 0, true, "A"), s(2, 0, false, "B")])?.id).toBe("A");
    expect(gptprioNext([s(2, 0, true, "A"), s(2, 1, false, "B")])?.id).toBe("A");
    expect(gptprioNext([s(0, 3, false, "A"), s(0, 0, true, "B")])).toBeUndefined();
  });
});

describe("GUID codec", () => {
  it("round-trips and uses the mixed-endian layout", () => {
    fc.assert(
      fc.property(fc.uuid(), (g) => {
        expect(decodeGuid(encodeGuid(g))).toBe(g.toLowerCase());
      }),
    );
    const b = encodeGuid("5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6");
    expect(b.subarray(0, 4).toString("hex")).toBe("f4f5fb5d");
    expect(b.subarray(8, 10).toString("hex")).toBe("aa5e");
  });
});
