import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  chooseEntry,
  compareEntries,
  compareVersions,
  type RankedEntry,
} from "../../src/bootstate/bls/order.js";

describe("systemd's version order (strverscmp_improved)", () => {
  // systemd's own list from its test of strverscmp_improved, oldest first.
  const ordered = [
    "~1",
    "",
    "ab",
    "abb",
    "abc",
    "0001",
    "002",
    "12",
    "122",
    "122.9",
    "123~rc1",
    "123",
    "123-a",
    "123-a.1",
    "123-a1",
    "123-a1.1",
    "123-3",
    "123-3.1",
    "123^patch1",
    "123^1",
    "123.a-1",
    "123.1-1",
    "123a-1",
    "124",
  ];
  it("sorts systemd's documented list as documented, each pair both ways", () => {
    for (let i = 0; i < ordered.length; i++) {
      expect(compareVersions(ordered[i], ordered[i])).toBe(0);
      for (let j = i + 1; j < ordered.length; j++) {
        expect([ordered[i], ordered[j], compareVersions(ordered[i], ordered[j])]).toEqual([
          ordered[i],
          ordered[j],
          -1,
        ]);
        expect(compareVersions(ordered[j], ordered[i])).toBe(1);
      }
    }
  });
  it.each([
    ["123.45-67.88", "123.45-67.89"],
    ["123.45-67.89", "123.45-67.89a"],
    ["123.45-67.ab", "123.45-67.89"],
    ["123.45-67.9", "123.45-67.89"],
    ["123.45-67", "123.45-67.89"],
    ["123.42-99.99", "123.45-67.89"],
    ["123~rc1-99.99", "123.45-67.89"],
    ["12.9", "12.10"],
    ["6.1.0-9-amd64", "6.1.0-10-amd64"],
  ])("%s is older than %s", (older, newer) => {
    expect(compareVersions(older, newer)).toBe(-1);
    expect(compareVersions(newer, older)).toBe(1);
  });
  it("skips characters that are not version characters; an absent version is the oldest", () => {
    expect(compareVersions("123_aa2-67.89", "123aa+2-67.89")).toBe(0);
    expect(compareVersions(undefined, "")).toBe(-1);
    expect(compareVersions(undefined, undefined)).toBe(0);
  });
  it("is antisymmetric and ends on any input", () => {
    const v = fc.string({ unit: fc.constantFrom(..."0123456789ab~-^._+"), maxLength: 12 });
    fc.assert(fc.property(v, v, (a, b) => compareVersions(a, b) + compareVersions(b, a) === 0));
  });
});

const e = (id: string, more: Partial<RankedEntry> = {}): RankedEntry => ({ id, ...more });
const order = (menu: RankedEntry[]) => [...menu].sort(compareEntries).map((x) => x.id);

describe("systemd-boot 252's menu order", () => {
  it("entries with no tries left last; with a sort key first; by sort key, machine-id, version newest first; then id", () => {
    expect(order([e("a.conf"), e("b+0-1.conf", { left: 0, done: 1 }), e("c.conf")])).toEqual([
      "c.conf",
      "a.conf",
      "b+0-1.conf",
    ]);
    expect(
      order([
        e("zz.conf"),
        e("deb-old.conf", { sortKey: "debian", version: "12.9" }),
        e("deb-new.conf", { sortKey: "debian", version: "12.10" }),
        e("arch.conf", { sortKey: "arch", version: "1" }),
        e("m2.conf", { sortKey: "debian", machineId: "bbb", version: "99" }),
      ]),
    ).toEqual(["arch.conf", "deb-new.conf", "deb-old.conf", "m2.conf", "zz.conf"]);
  });
  it("the same id but counted: more tries left first, then fewer done", () => {
    expect(order([e("x.conf", { left: 1, done: 2 }), e("x.conf", { left: 2, done: 5 })]).length).toBe(2);
    const menu = [
      e("x.conf", { left: 1, done: 2 }),
      e("x.conf", { left: 2, done: 5 }),
      e("x.conf", { left: 2, done: 1 }),
    ];
    expect([...menu].sort(compareEntries)).toEqual([menu[2], menu[1], menu[0]]);
  });
});

describe("the entry systemd-boot starts", () => {
  const menu = [e("a.conf"), e("b+2.conf", { left: 2, done: 0 }), e("c+0-3.conf", { left: 0, done: 3 })];
  it("one-shot, then LoaderEntryDefault, then loader.conf's default, then the first in the menu", () => {
    expect(chooseEntry(menu, {})).toEqual({ index: 1, rule: "sort order" });
    expect(chooseEntry(menu, { confDefault: "a.conf" })).toEqual({ index: 0, rule: "loader.conf default" });
    expect(chooseEntry(menu, { confDefault: "a.conf", efiDefault: "C+0-3.CONF" })).toEqual({
      index: 2,
      rule: "LoaderEntryDefault",
    });
    expect(chooseEntry(menu, { efiDefault: "c*", oneShot: "a.conf" })).toEqual({
      index: 0,
      rule: "LoaderEntryOneShot",
    });
  });
  it("@saved is the last booted; a pattern that matches nothing passes to the next rule", () => {
    expect(chooseEntry(menu, { confDefault: "@saved", lastBooted: "a.conf" })).toEqual({
      index: 0,
      rule: "loader.conf default",
    });
    expect(chooseEntry(menu, { efiDefault: "@saved", confDefault: "c*" })).toEqual({
      index: 2,
      rule: "loader.conf default",
    });
    // 252's id keeps the counter: an exact `default b.conf` no longer names b once it is counted.
    expect(chooseEntry(menu, { confDefault: "b.conf" })).toEqual({ index: 1, rule: "sort order" });
    expect(chooseEntry([], { confDefault: "a.conf" })).toBeNull();
  });
});
