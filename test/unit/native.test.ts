import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(import.meta.dirname, "../..");
// Built by `npm run build` (scripts/build-native.sh); Node-API, so the same file on every Node tier.
const ADDON = path.join(REPO, "dist/native/bootwarden.node");
const RELEASE = path.join(REPO, "dist/memory/release.js");

/**
 * In a child process of the same node: the binary's resident pages and garbage on the heap, then a release (a full
 * collection, malloc's free chunks, the binary's pages), then work that touches code
 * and data the release dropped (compression, hashing, a regular expression, module loading), whose results must be
 * the same as before it, and no page the process copied (RELRO, .data) may be gone.
 */
const CHILD = String.raw`
  const fs = require("node:fs");
  const own = () => fs.readFileSync("/proc/self/smaps", "utf8").split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
    .filter((b) => b.split("\n")[0].endsWith(" " + process.execPath));
  const field = (b, k) => Number(new RegExp("^" + k + ":\\s+(\\d+) kB$", "m").exec(b)?.[1] ?? NaN);
  const rss = () => own().reduce((s, b) => s + field(b, "Rss"), 0);
  const copied = () => Object.fromEntries(own().map((b) => [b.split(" ")[0], field(b, "Anonymous")]));
  const work = () => {
    const zlib = require("node:zlib"), crypto = require("node:crypto");
    const data = Buffer.from("bootwarden ".repeat(5000));
    return [zlib.crc32 ? zlib.crc32(data) : 0, zlib.inflateSync(zlib.deflateSync(data)).equals(data),
      crypto.createHash("sha256").update(data).digest("hex"), /(war)den\s+(\w+)/.exec(data.toString())[2],
      JSON.stringify(require("node:path").parse("/usr/lib/bootwarden/bootwarden.mjs"))].join(" ");
  };
  const before = { rss: rss(), copied: copied(), work: work() };
  // Garbage the collection must take: about 8 MB of objects nothing refers to any more.
  let junk = Array.from({ length: 100000 }, (_, i) => ({ i, s: "x".repeat(40) + i }));
  junk = undefined;
  before.heapUsed = process.memoryUsage().heapUsed;
  import(process.argv[1]).then(async ({ nativeReleaser }) => {
    const r = nativeReleaser();
    const heapUsed = r.collect();
    // Node 20's collector frees from its own threads after it returns: the daemon waits too (RELEASE_SETTLE_MS).
    await new Promise((ok) => setTimeout(ok, 1000));
    const released = { heapUsed, ...r.trim() };
    const after = { rss: rss(), copied: copied() };
    console.log(JSON.stringify({ before, after, released, work: work() }));
  });
`;

describe("the native addon for real (memory in a child process of this node; its refusals)", () => {
  it("collects the heap and drops the binary's resident pages; what the process computes and the pages it copied stay", () => {
    expect(existsSync(ADDON), `${ADDON}: run npm run build`).toBe(true);
    const out = JSON.parse(execFileSync(process.execPath, ["-e", CHILD, RELEASE], { encoding: "utf8" }));
    expect(out.released.binaryBytes).toBeGreaterThan(0);
    // The full collection took the garbage (more than half of the ~8 MB the child dropped before it).
    expect(out.released.heapUsed).toBeLessThan(out.before.heapUsed - 4_000_000);
    // Resident kB of the binary's mappings: what was dropped is gone (the child's own reading touches some again).
    expect(out.after.rss).toBeLessThan(out.before.rss - out.released.binaryBytes / 1024 / 2);
    // No copied page was dropped: the same mappings, none with fewer (writable data may gain a page meanwhile).
    expect(Object.keys(out.after.copied)).toEqual(Object.keys(out.before.copied));
    for (const [range, kb] of Object.entries(out.before.copied))
      expect(out.after.copied[range], range).toBeGreaterThanOrEqual(kb as number);
    expect(Object.values(out.before.copied).some((kb) => (kb as number) > 0)).toBe(true);
    expect(out.work).toBe(out.before.work);
    expect(out.work).toContain(" true ");
  });

  it("refuses what the kernel refuses, with the call and the reason, and a wrong argument by its signature", () => {
    const addon = createRequire(import.meta.url)(ADDON) as {
      dropPages(s: unknown, l: unknown): void;
      tryLock(fd: unknown): boolean;
    };
    expect(() => addon.dropPages(1n, 4096n)).toThrow("madvise: Invalid argument");
    expect(() => addon.dropPages(4096, 4096)).toThrow("dropPages(start: bigint, length: bigint)");
    expect(() => addon.dropPages(-1n, 4096n)).toThrow("dropPages(start: bigint, length: bigint)");
    expect(() => addon.tryLock(1 << 30)).toThrow("flock: Bad file descriptor");
    expect(() => addon.tryLock(-1)).toThrow("tryLock(fd: number)");
    expect(() => addon.tryLock("3")).toThrow("tryLock(fd: number)");
  });
});
