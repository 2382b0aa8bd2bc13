// The one collection after the verdict loads node:v8 and node:vm when it runs, not at start: the daemon's whole
// module graph (the built code, in a child of the same Node) loads without them, and the collection then works.
// Then malloc's free pages: a child frees 80 MB of small malloc'd blocks between live ones (holes that glibc's free()
// keeps), and only returnFreePages gives them back to the kernel.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const DIST = path.resolve(import.meta.dirname, "../../dist");

const CHILD = `
  const dist = process.argv[1];
  const has = () => process.moduleLoadList.filter((m) => /^NativeModule (v8|vm)$/.test(m));
  await import(dist + "/commands/daemon.js");
  const atStart = has();
  const { collectGarbage } = await import(dist + "/memory/heap.js");
  collectGarbage();
  collectGarbage();
  console.log(JSON.stringify({ atStart, afterCollection: has().sort() }));
`;

describe("the heap's one collection", () => {
  it("loads node:v8 and node:vm only when it runs", () => {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", CHILD, DIST], {
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({ atStart: [], afterCollection: ["NativeModule v8", "NativeModule vm"] });
  });
});

const FRAGMENTED = `
  const { readFileSync } = await import("node:fs");
  const dist = process.argv[1];
  const { collectGarbage, returnFreePages } = await import(dist + "/memory/heap.js");
  const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
  // Backing stores under glibc's mmap threshold come from its arenas; a live 16-byte one after each freed block
  // keeps the holes from merging into the arena's top, which free() would give back by itself.
  let garbage = [];
  const live = [];
  for (let i = 0; i < 20000; i++) {
    garbage.push(Buffer.allocUnsafeSlow(4000));
    live.push(Buffer.allocUnsafeSlow(16));
  }
  garbage = undefined;
  collectGarbage();
  collectGarbage();
  await new Promise((r) => setTimeout(r, 300));
  const collected = anon();
  const returned = returnFreePages();
  console.log(JSON.stringify({ collected, trimmed: anon(), returned, live: live.length }));
`;

describe("returnFreePages", () => {
  it("gives the arenas' free pages back to the kernel after the collection", () => {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", FRAGMENTED, DIST], {
      encoding: "utf8",
    });
    const r = JSON.parse(out) as { collected: number; trimmed: number; returned: boolean; live: number };
    expect(r.returned).toBe(true);
    // 20000 freed blocks of 4000 bytes, each holding at least one whole page: about 80 MB held before the trim.
    expect(r.collected - r.trimmed).toBeGreaterThan(40e6);
  });
});

const HUGE_PAGES = `
  const { readFileSync } = await import("node:fs");
  const thp = () => /THP_enabled:\\s+(\\d)/.exec(readFileSync("/proc/self/status", "utf8"))[1];
  const before = thp();
  const { avoidHugePages } = await import(process.argv[1] + "/memory/heap.js");
  const set = avoidHugePages();
  console.log(JSON.stringify({ before, set, after: thp() }));
`;

describe("avoidHugePages", () => {
  it("turns transparent huge pages off for the process, as the kernel reports it", () => {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", HUGE_PAGES, DIST], {
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({ before: "1", set: true, after: "0" });
  });
});
