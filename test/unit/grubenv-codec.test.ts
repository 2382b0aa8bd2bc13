import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BLOCK_SIZE,
  type EnvBlock,
  envEdit,
  envEntries,
  envGet,
  parseEnvBlock,
  serializeEnvBlock,
} from "../../src/bootstate/grubenv/codec.js";

const empty = () => parseEnvBlock(Buffer.from("# GRUB Environment Block\n".padEnd(1024, "#"))) as EnvBlock;
const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,12}$/);
const value = fc.string({
  maxLength: 20,
  unit: fc.constantFrom("a", "b", "=", "\\", "\n", " ", "#", "é", "0"),
});

describe("grubenv codec", () => {
  it("round-trips any set of variables, escapes included", () => {
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 8 }), (vars) => {
        const block = envEdit(empty(), vars);
        const bytes = serializeEnvBlock(block);
        expect(bytes.length).toBe(BLOCK_SIZE);
        const back = parseEnvBlock(bytes);
        if (typeof back === "string") throw new Error(back);
        expect(Object.fromEntries(envEntries(back))).toEqual(vars);
        expect(serializeEnvBlock(back).equals(bytes)).toBe(true);
      }),
    );
  });

  it("keeps untouched lines byte for byte and edits in place", () => {
    const text = "# GRUB Environment Block\n# WARNING: keep\nsaved_entry=x\\\\y\nboot_counter=2\nzz=1\n";
    const block = parseEnvBlock(Buffer.from(text.padEnd(1024, "#"), "latin1")) as EnvBlock;
    const out = serializeEnvBlock(envEdit(block, { boot_counter: "0", new_var: "v" })).toString("latin1");
    expect(
      out.startsWith(
        "# GRUB Environment Block\n# WARNING: keep\nsaved_entry=x\\\\y\nboot_counter=0\nzz=1\nnew_var=v\n#",
      ),
    ).toBe(true);
    expect(envGet(block, "saved_entry")).toBe("x\\y");
  });

  it("lets the last duplicate win (as GRUB's load_env does) and collapses duplicates on write", () => {
    const text = "# GRUB Environment Block\na=1\nb=2\na=3\n";
    const block = parseEnvBlock(Buffer.from(text.padEnd(1024, "#"))) as EnvBlock;
    expect(envGet(block, "a")).toBe("3");
    const out = serializeEnvBlock(envEdit(block, { a: "4" })).toString("latin1");
    expect(out.startsWith("# GRUB Environment Block\na=4\nb=2\n#")).toBe(true);
  });

  it("rejects corrupt blocks with a reason", () => {
    expect(parseEnvBlock(Buffer.alloc(1000))).toMatch(/size is 1000/);
    expect(parseEnvBlock(Buffer.from("# GRUB Env\n".padEnd(1024, "#")))).toMatch(/signature/);
    expect(parseEnvBlock(Buffer.from("# GRUB Environment Block\nnovalue\n".padEnd(1024, "#")))).toMatch(
      /malformed/,
    );
    expect(parseEnvBlock(Buffer.from("# GRUB Environment Block\na=1".padEnd(1024, "x")))).toMatch(
      /unterminated/,
    );
  });

  it("refuses an environment that does not fit", () => {
    expect(() => serializeEnvBlock(envEdit(empty(), { big: "x".repeat(1100) }))).toThrow(/holds 1024/);
  });
});
