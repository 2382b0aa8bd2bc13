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
 * In a child process of the same node: the binary's resident pages, then a release, then work that touches code
 * and data the release dropped (compression, hashing, a regular expression, module loading), whose results must be
 * the same as before it, and the pages the process copied (RELRO, .data) must be as they were.
 */
const CHILD = String.raw`
  const fs = require("node:fs");
  const own = () => fs.readFileSync("/proc/self/smaps", "utf8").split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
    .filter((b) => b.split("\n")[0].endsWith(" " + process.execPath));
  const field = (b, k) => Number(new RegExp("^" + k + ":\\s+(\\d+) kB$", "m").exec(b)?.[1] ?? NaN);
  const rss = () => own().reduce((s, b) => s + field(b, "Rss"), 0);
  const copied = () => own().map((b) => b.split(" ")[0] + "=" + field(b, "Anonymous")).join(" ");
  const work = () => {
    const zlib = require("node:zlib"), crypto = require("node:crypto");
    const data = Buffer.from("bootwarden ".repeat(5000));
    return [zlib.crc32 ? zlib.crc32(data) : 0, zlib.inflateSync(zlib.deflateSync(data)).equals(data),
      crypto.createHash("sha256").update(data).digest("hex"), /(war)den\s+(\w+)/.exec(data.toString())[2],
      JSON.stringify(require("node:path").parse("/usr/lib/bootwarden/bootwarden.mjs"))].join(" ");
  };
  const before = { rss: rss(), copied: copied(), work: work() };
  import(process.argv[1]).then(({ nativeReleaser }) => {
    const released = nativeReleaser().release();
    const after = { rss: rss(), copied: copied() };
    console.log(JSON.stringify({ before, after, released, work: work() }));
  });
`;

describe("the native addon for real (memory in a child process of this node; its refusals)", () => {
  it("drops the binary's resident pages; what the process computes and the pages it copied stay the same", () => {
    expect(existsSync(ADDON), `${ADDON}: run npm run build`).toBe(true);
    const out = JSON.parse(execFileSync(process.execPath, ["-e", CHILD, RELEASE], { encoding: "utf8" }));
    expect(out.released.binaryBytes).toBeGreaterThan(0);
    // Resident kB of the binary's mappings: what was dropped is gone (the child's own reading touches some again).
    expect(out.after.rss).toBeLessThan(out.before.rss - out.released.binaryBytes / 1024 / 2);
    expect(out.after.copied).toBe(out.before.copied);
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
