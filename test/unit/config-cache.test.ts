import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cachedConfig, loadConfigFast } from "../../src/config/cache.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "bootwarden-cache-"));
  process.env.BOOTWARDEN_ROOT = root;
  mkdirSync(path.join(root, "etc/bootwarden/config.d"), { recursive: true });
  writeFileSync(path.join(root, "etc/bootwarden/config.yaml"), "assessment:\n  deadline: 5m\n");
});
afterEach(() => {
  delete process.env.BOOTWARDEN_ROOT;
  rmSync(root, { recursive: true, force: true });
});

describe("the validated-config cache", () => {
  it("is used while every source file is byte for byte the same, and missed on any change", async () => {
    expect(await cachedConfig()).toBeUndefined();
    const first = await loadConfigFast();
    expect(first.config.assessment.deadline).toBe(300_000);
    expect((await cachedConfig())?.config).toEqual(first.config);
    // Same length, other bytes: still a miss.
    writeFileSync(path.join(root, "etc/bootwarden/config.yaml"), "assessment:\n  deadline: 6m\n");
    expect(await cachedConfig()).toBeUndefined();
    expect((await loadConfigFast()).config.assessment.deadline).toBe(360_000);
    writeFileSync(path.join(root, "etc/bootwarden/config.d/10-x.yaml"), "assessment:\n  deadline: 7m\n");
    expect(await cachedConfig()).toBeUndefined();
    expect((await loadConfigFast()).config.assessment.deadline).toBe(420_000);
  });

  it("an invalid configuration is never cached, and a cache for another file is not used", async () => {
    writeFileSync(path.join(root, "etc/bootwarden/config.yaml"), "assessment:\n  colour: red\n");
    await expect(loadConfigFast()).rejects.toThrow(/unknown key colour/);
    expect(await cachedConfig()).toBeUndefined();
    const other = path.join(root, "other.yaml");
    writeFileSync(other, "assessment:\n  deadline: 9m\n");
    expect((await loadConfigFast(other)).config.assessment.deadline).toBe(540_000);
    expect(await cachedConfig()).toBeUndefined();
  });
});
