import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEfiString, encodeEfiString } from "../../src/bootstate/bls/efivars.js";
import {
  armed,
  blessed,
  countedAfterBlessing,
  type EntryName,
  entryId,
  formatEntryName,
  globMatches,
  markedBad,
  parseEntryName,
} from "../../src/bootstate/bls/names.js";

describe("BLS entry names", () => {
  it.each([
    ["b+10.conf", { stem: "b", suffix: ".conf", left: 10, done: 0 }],
    ["b+9-1.conf", { stem: "b", suffix: ".conf", left: 9, done: 1, doneText: "1" }],
    ["linux+6.1+2-1.conf", { stem: "linux+6.1", suffix: ".conf", left: 2, done: 1, doneText: "1" }],
    ["linux+6.1.conf", { stem: "linux+6.1", suffix: ".conf" }],
    ["fedora-6.8.efi", { stem: "fedora-6.8", suffix: ".efi" }],
    ["b+0-02.efi", { stem: "b", suffix: ".efi", left: 0, done: 2, doneText: "02" }],
  ])("%s", (file, want) => expect(parseEntryName(file)).toEqual(want));

  it.each(["b.txt", ".conf", "b+3"])("%j is not an entry", (f) => expect(parseEntryName(f)).toBeUndefined());

  it("blesses, marks bad and arms as systemd-boot and kernel-install name them", () => {
    const n = parseEntryName("b+1-02.conf")!;
    expect(formatEntryName(blessed(n))).toBe("b.conf");
    expect(formatEntryName(markedBad(n))).toBe("b+0-02.conf"); // the digits keep their width
    expect(formatEntryName(markedBad(parseEntryName("b+3.conf")!))).toBe("b+0.conf");
    expect(formatEntryName(armed(parseEntryName("b.conf")!, 3))).toBe("b+3.conf");
    expect(entryId(n)).toBe("b.conf");
  });

  it("round-trips any name through parse and format", () => {
    const stem = fc.stringMatching(/^[a-z0-9][a-z0-9.+_-]{0,15}$/).filter((s) => !/\+\d+(-\d+)?$/.test(s));
    const name = fc.record(
      {
        stem,
        suffix: fc.constantFrom(".conf" as const, ".efi" as const),
        left: fc.integer({ min: 0, max: 99 }),
        done: fc.integer({ min: 0, max: 99 }),
      },
      { requiredKeys: ["stem", "suffix"] },
    );
    fc.assert(
      fc.property(name, (raw) => {
        const n: EntryName =
          raw.left === undefined ? { stem: raw.stem, suffix: raw.suffix } : { ...raw, done: raw.done ?? 0 };
        const file = formatEntryName(n);
        const back = parseEntryName(file)!;
        expect(formatEntryName(back)).toBe(file);
        expect(back.stem).toBe(n.stem);
        expect(back.left).toBe(n.left);
      }),
      { numRuns: 2000 },
    );
  });

  it("default globs match as loader.conf's do", () => {
    expect(globMatches("b*", "b+0-1.conf")).toBe(true);
    expect(globMatches("b+1.conf", "b+0-1.conf")).toBe(false);
    expect(globMatches("fedora-*", "Fedora-6.8.conf")).toBe(true);
    expect(globMatches("[ab].conf", "b.conf")).toBe(true);
  });
});

describe("EFI variables", () => {
  it("decode the loader's UTF-16LE strings after the attribute word", () => {
    expect(decodeEfiString(encodeEfiString("\\loader\\entries\\b+9-1.conf"))).toBe(
      "\\loader\\entries\\b+9-1.conf",
    );
  });

  it.each([
    [Buffer.from([6, 0, 0]), /too short/],
    [Buffer.from([6, 0, 0, 0, 0x41]), /odd length/],
    [Buffer.concat([encodeEfiString("a"), Buffer.from("b\0", "utf16le")]), /after the terminating NUL/],
  ])("refuse malformed content (%#)", (buf, problem) => {
    const r = decodeEfiString(buf);
    expect(typeof r).toBe("object");
    expect((r as { problem: string }).problem).toMatch(problem);
  });
});

describe("names as systemd-boot reads them", () => {
  it("a counter that does not fit an int is no counter: the digits are part of the entry's name", () => {
    expect(parseEntryName("b+2147483647-1.conf")).toMatchObject({ stem: "b", left: 2147483647, done: 1 });
    expect(parseEntryName("b+2147483648.conf")).toEqual({ stem: "b+2147483648", suffix: ".conf" });
    expect(parseEntryName("b+1-99999999999.conf")).toEqual({ stem: "b+1-99999999999", suffix: ".conf" });
  });

  it("a name with a control character is not an entry (a newline would fake a line of status or the journal)", () => {
    expect(parseEntryName("b\n+1.conf")).toBeUndefined();
    expect(parseEntryName("b+1.conf\n")).toBeUndefined();
    expect(parseEntryName("b\x1b[31m.conf")).toBeUndefined();
  });

  it("a stem that ends like a counter stays counted after blessing", () => {
    expect(countedAfterBlessing(parseEntryName("x+1+1-1.conf")!)).toBe(true);
    expect(countedAfterBlessing(parseEntryName("linux+6.1+2-1.conf")!)).toBe(false);
    expect(countedAfterBlessing(parseEntryName("b+3.conf")!)).toBe(false);
  });
});
