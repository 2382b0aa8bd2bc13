import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BootwardenError } from "../../src/base/errors.js";
import { formatDuration, parseDuration } from "../../src/config/duration.js";
import { loadConfig, loadConfigLenient, mergeConfig, validateConfig } from "../../src/config/load.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "bootwarden-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const file = (yaml: string, name = "c.yaml") => {
  const f = path.join(dir, name);
  writeFileSync(f, yaml);
  return f;
};
const refused = async (yaml: string) => {
  const err = await loadConfig(file(yaml)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BootwardenError);
  return err as BootwardenError;
};

describe("durations", () => {
  it.each([
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["90s", 90_000],
    ["250ms", 250],
    ["1.5s", 1500],
    [90, 90_000],
    ["2min", 120_000],
  ] as const)("%j is %d ms", (v, ms) => expect(parseDuration(v)).toBe(ms));

  it.each(["-1s", "10 minutes", "", "5d", "1e3", "s", "10m garbage"])("%j is not a duration", (v) =>
    expect(parseDuration(v)).toBeUndefined(),
  );

  it("formats as people read them", () => {
    expect(formatDuration(999)).toBe("999ms");
    expect(formatDuration(61_000)).toBe("1m1s");
    expect(formatDuration(3_600_000)).toBe("1h0m0s");
    expect(formatDuration(-5)).toBe("0ms");
  });
});

describe("loading", () => {
  it("drop-ins merge key by key and replace lists", () => {
    expect(mergeConfig({ a: { x: 1, l: [1, 2] }, b: 1 }, { a: { y: 2, l: [3] } })).toEqual({
      a: { x: 1, y: 2, l: [3] },
      b: 1,
    });
  });

  it("a merge refuses keys that reach a prototype", () => {
    expect(() => mergeConfig({}, JSON.parse('{"__proto__": {"x": 1}}'))).toThrow(
      /"__proto__" is not allowed/,
    );
  });

  it("validation errors name the file and the dotted key, with the invalid-config exit status", () => {
    try {
      validateConfig({ assessment: { critical: { units: ["nope"] } } }, "/etc/bootwarden/config.yaml");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BootwardenError);
      expect((err as BootwardenError).code).toBe("invalid");
      expect((err as BootwardenError).exitCode).toBe(78);
      expect((err as Error).message).toMatch(
        /^config: \/etc\/bootwarden\/config\.yaml: assessment\.critical\.units\.0: /,
      );
    }
  });

  it("a missing explicit file is not-found, naming it", async () => {
    const err = await loadConfig(path.join(dir, "none.yaml")).catch((e: BootwardenError) => e);
    expect(err).toMatchObject({ code: "not-found" });
    expect((err as Error).message).toMatch(/none\.yaml: cannot read: ENOENT/);
  });

  it("an empty file is the built-in defaults", async () => {
    const { config } = await loadConfig(file(""));
    expect(config.assessment).toMatchObject({ deadline: 600_000, maxFailedTrials: 3, action: "rollback" });
  });

  it.each([
    ["a: !!binary aGVsbG8=\n", /:1: YAML tag tag:yaml\.org,2002:binary is not allowed/],
    ["a: !custom x\n", /invalid YAML: Unresolved tag: !custom/],
    ["- a\n- b\n", /top level must be a mapping/],
    ["x:\n  prototype: 1\n", /:2: key "prototype" is not allowed/],
  ])("%j is refused", async (yaml, pattern) => {
    expect((await refused(yaml)).message).toMatch(pattern);
  });

  it("the lenient loader keeps the boot state and deadline of an otherwise broken config", async () => {
    const { config, problem } = await loadConfigLenient(
      file(
        "bootState:\n  backend: grubenv\n  path: /boot/grubenv\nassessment:\n  deadline: 2m\n  bogus: 1\n",
      ),
    );
    expect(problem).toMatch(/unknown key bogus/);
    expect(config.bootState).toMatchObject({ backend: "grubenv", path: "/boot/grubenv" });
    expect(config.assessment.deadline).toBe(120_000);
  });
});

describe("schema errors in plain words", () => {
  const problem = (raw: object) => {
    try {
      validateConfig(raw, "c.yaml");
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("validated");
  };
  it("name the key, the form it wants and what it got; never the library's own text", () => {
    expect(problem({ assessment: { critical: { units: "sshd.service" } } })).toBe(
      'config: c.yaml: assessment.critical.units: must be a list, e.g. [a, b]; got the text "sshd.service"',
    );
    expect(problem({ bootState: { backend: "grub" } })).toBe(
      'config: c.yaml: bootState.backend: must be one of "gpt", "grubenv", "bls", "uboot"; got the text "grub"',
    );
    expect(problem({ assessment: { action: "nuke" } })).toBe(
      'config: c.yaml: assessment.action: must be one of "rollback", "retry", "report"; got the text "nuke"',
    );
    expect(problem({ assessment: { maxFailedTrials: -1 } })).toBe(
      "config: c.yaml: assessment.maxFailedTrials: too small: at least 1; got number -1",
    );
    expect(problem({ bootState: { backend: "uboot" } })).toBe(
      'config: c.yaml: bootState.scheme: must be one of "rauc", "mender", "swupdate"; got nothing',
    );
    for (const raw of [
      { hooks: { green: "x" } },
      { assessment: { noFailedUnits: "yes" } },
      { bootState: { tries: 99 } },
    ])
      expect(problem(raw)).not.toMatch(/Invalid|expected \w+, received/);
  });
});
