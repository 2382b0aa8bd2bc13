// The U-Boot environment codec against libubootenv's own tools (Debian's libubootenv-tool: fw_printenv,
// fw_setenv; u-boot-tools: mkenvimage): what we read is what fw_printenv prints, and what we write is byte for byte
// what fw_setenv writes from the same starting image. Needs fw_printenv, fw_setenv, mkenvimage.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { currentCopy, encodeEnv, parseEnv } from "../../src/bootstate/uboot/codec.js";
import { requireTool, sh, tempDir } from "../helpers/tools.js";

const SIZE = 0x400;
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  for (const t of ["fw_printenv", "fw_setenv", "mkenvimage"]) requireTool(t);
});
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** An env image made by mkenvimage from name=value lines (-r: with the redundant flags byte). */
function mkenv(name: string, lines: string[], redundant = false): string {
  const txt = path.join(dir, `${name}.txt`);
  writeFileSync(txt, `${lines.join("\n")}\n`);
  const img = path.join(dir, `${name}.img`);
  sh("mkenvimage", [...(redundant ? ["-r"] : []), "-s", String(SIZE), "-o", img, txt]);
  return img;
}
function fwConfig(file: string, copies = 1): string {
  const c = path.join(dir, "fw_env.config");
  writeFileSync(
    c,
    Array.from(
      { length: copies },
      (_, i) => `${file} 0x${(i * SIZE).toString(16)} 0x${SIZE.toString(16)}\n`,
    ).join(""),
  );
  return c;
}
const printenv = (cfg: string) =>
  new Map(
    sh("fw_printenv", ["-c", cfg])
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]),
  );

const LINES = [
  "BOOT_ORDER=A B",
  "BOOT_A_LEFT=3",
  "BOOT_B_LEFT=3",
  "A_LEFT=not a slot",
  "bootcmd=run distro_bootcmd; echo a value with spaces",
  "upgrade_available=0",
];

describe("U-Boot env codec against libubootenv", () => {
  it("reads what fw_printenv prints: values with spaces, a name ending like another", () => {
    const img = mkenv("single", LINES);
    const env = parseEnv(readFileSync(img), false);
    expect(env.valid).toBe(true);
    expect(env.vars).toEqual(printenv(fwConfig(img)));
    expect(env.vars.get("A_LEFT")).toBe("not a slot");
    expect(env.vars.get("BOOT_A_LEFT")).toBe("3");
  });

  it("writes byte for byte what fw_setenv writes: set, add, delete (a shorter env keeps the old bytes after it)", () => {
    const img = mkenv("single", LINES);
    const cfg = fwConfig(img);
    const ours = path.join(dir, "ours.img");
    writeFileSync(ours, readFileSync(img));
    const steps: [string, string | undefined][] = [
      ["BOOT_A_LEFT", "2"],
      ["zz_new", "a long value that grows the environment"],
      ["bootcmd", undefined],
      ["zz_new", undefined],
      ["BOOT_ORDER", "B A"],
    ];
    for (const [name, value] of steps) {
      sh("fw_setenv", ["-c", cfg, name, ...(value === undefined ? [] : [value])]);
      const env = parseEnv(readFileSync(ours), false);
      const vars = new Map(env.vars);
      if (value === undefined) vars.delete(name);
      else vars.set(name, value);
      writeFileSync(ours, encodeEnv(env, vars));
      expect(readFileSync(ours).equals(readFileSync(img)), `after ${name}=${value}`).toBe(true);
    }
  });

  it("redundant: reads the copy fw_printenv reads, and writes the other one with the next flags, as fw_setenv does", () => {
    const a = mkenv("a", LINES, true);
    const b = mkenv("b", ["BOOT_ORDER=B A", "BOOT_A_LEFT=0", "BOOT_B_LEFT=3"], true);
    const both = path.join(dir, "both.img");
    writeFileSync(both, Buffer.concat([readFileSync(a), readFileSync(b)]));
    const cfg = fwConfig(both, 2);
    const ours = path.join(dir, "ours.img");
    writeFileSync(ours, readFileSync(both));
    for (const [name, value] of [
      ["BOOT_B_LEFT", "2"],
      ["BOOT_A_LEFT", "1"],
      ["BOOT_ORDER", "A"],
    ] as const) {
      sh("fw_setenv", ["-c", cfg, name, value]);
      const img = readFileSync(ours);
      const copies = [parseEnv(img.subarray(0, SIZE), true), parseEnv(img.subarray(SIZE), true)] as const;
      const cur = currentCopy(copies[0], copies[1]) ?? 0;
      expect(copies[cur].vars).toEqual(printenv(fwConfig(ours, 2)));
      fwConfig(both, 2);
      const vars = new Map(copies[cur].vars).set(name, value);
      const out = encodeEnv(copies[cur], vars, ((copies[cur].flags ?? 0) + 1) & 0xff);
      out.copy(img, cur === 0 ? SIZE : 0);
      writeFileSync(ours, img);
      expect(img.equals(readFileSync(both)), `after ${name}=${value}`).toBe(true);
    }
  });

  it("a torn newest copy (bad CRC) is passed over for the older one, as fw_printenv does; a single bad CRC is invalid", () => {
    const a = mkenv("a", ["x=old"], true);
    const b = mkenv("b", ["x=new"], true);
    const img = Buffer.concat([readFileSync(a), readFileSync(b)]);
    img.writeUInt8(2, SIZE + 4); // b is newer...
    img.writeUInt8(img.readUInt8(SIZE + 12) ^ 0xff, SIZE + 12); // ...but torn
    const both = path.join(dir, "both.img");
    writeFileSync(both, img);
    const copies = [parseEnv(img.subarray(0, SIZE), true), parseEnv(img.subarray(SIZE), true)] as const;
    expect(currentCopy(copies[0], copies[1])).toBe(0);
    expect(printenv(fwConfig(both, 2)).get("x")).toBe("old");
    const single = readFileSync(mkenv("s", ["x=1"]));
    single.writeUInt8(single.readUInt8(10) ^ 1, 10);
    expect(parseEnv(single, false).valid).toBe(false);
  });
});
