import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(import.meta.dirname, "../..");
// Built by `npm run build` (scripts/build/native.sh); Node-API, so the same file on every Node tier.
const ADDON = path.join(REPO, "dist/native/bootwarden.node");

describe("the native addon for real (its refusals; the lock itself: test/tools/lock.test.ts; the trim: test/unit/heap.test.ts)", () => {
  it("is built, and refuses what the kernel refuses, with the call and the reason, and a wrong argument by its signature", () => {
    expect(existsSync(ADDON)).toBe(true);
    const addon = createRequire(import.meta.url)(ADDON) as Record<string, (fd: unknown) => boolean>;
    expect(Object.keys(addon)).toEqual(["tryLock", "mallocTrim", "noHugePages"]);
    expect(() => addon.tryLock!(1 << 30)).toThrow("flock: Bad file descriptor");
    expect(() => addon.tryLock!(-1)).toThrow("tryLock(fd: number)");
    expect(() => addon.tryLock!("3")).toThrow("tryLock(fd: number)");
  });
});
