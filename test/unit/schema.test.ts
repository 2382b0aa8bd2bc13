import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseDuration } from "../../src/config/duration.js";
import { configSchema } from "../../src/config/schema.js";

describe("config schema", () => {
  it("the shipped JSON Schema is the one generated from the zod schema (npm run schema)", () => {
    const shipped = JSON.parse(
      readFileSync(new URL("../../schema/config.schema.json", import.meta.url), "utf8"),
    );
    const fresh = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
    // toEqual, not toMatchObject: a key zod dropped from the schema must fail this test too.
    expect(shipped).toEqual({ ...JSON.parse(JSON.stringify(fresh)), title: shipped.title });
  });

  it("fills the documented defaults", () => {
    const c = configSchema.parse({});
    expect(c.bootState).toMatchObject({ backend: "gpt", cmdline: "/proc/cmdline" });
    expect(c.assessment.deadline).toBe(600_000);
    expect(c.assessment.action).toBe("rollback");
  });

  it("parses durations", () => {
    expect(parseDuration("10m")).toBe(600_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration(90)).toBe(90_000);
    expect(parseDuration("-1s")).toBeUndefined();
    expect(parseDuration("10 minutes")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });
});
