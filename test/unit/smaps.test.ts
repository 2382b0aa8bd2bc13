import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { droppableRanges } from "../../src/memory/smaps.js";

/** One smaps block: the header and the fields droppableRanges reads, with others around them as the kernel has. */
const block = (header: string, rssKb: number, anonKb: number | undefined) =>
  [
    header,
    "Size:               7612 kB",
    `Rss:                ${rssKb} kB`,
    "Pss:                 120 kB",
    ...(anonKb === undefined ? [] : [`Anonymous:          ${anonKb} kB`]),
    "Swap:                  0 kB",
    "VmFlags: rd mr mw me sd",
  ].join("\n");

const NODE = "/usr/bin/node";
// The mappings of a real node 20 process (addresses and offsets as /proc/PID/smaps printed them), plus the cases
// a running system can show: the binary replaced on disk (deleted), a block whose format lacks Anonymous.
const SMAPS = [
  block("00400000-00b6f000 r--p 00000000 fe:00 260689     /usr/bin/node", 5948, 0),
  block("00b72000-025fe000 r-xp 00772000 fe:00 260689     /usr/bin/node", 16632, 0),
  block("02600000-02601000 r-xp 02200000 fe:00 260689     /usr/bin/node", 0, 0),
  block("02601000-0563a000 r--p 02201000 fe:00 260689     /usr/bin/node", 7548, 0),
  // RELRO: relocated at load, then made read-only: its copied pages are the process's own.
  block("0563a000-0563e000 r--p 05239000 fe:00 260689     /usr/bin/node", 16, 8),
  block("0563e000-0565d000 rw-p 0523d000 fe:00 260689     /usr/bin/node", 124, 92),
  block("0565d000-0568a000 rw-p 00000000 00:00 0 ", 180, 180),
  block("1d7c2000-1da0d000 rw-p 00000000 00:00 0     [heap]", 2192, 2192),
  // V8 maps part of the binary's code a second time, next to its code range (short builtin calls).
  block("7f58c6e00000-7f58c6f92000 r-xp 014c4000 fe:00 260689     /usr/bin/node", 576, 0),
  block("7f58c7000000-7f58c7001000 r--s 00000000 fe:00 260689     /usr/bin/node", 4, 0),
  block("7f58c8000000-7f58c8100000 r-xp 00028000 fe:00 131     /usr/lib/x86_64-linux-gnu/libc.so.6", 1688, 0),
  block("7f58c9000000-7f58c9001000 r--p 00000000 fe:00 999     /usr/bin/nodejs", 4, 0),
  block("7f58ca000000-7f58ca200000 r-xp 00100000 fe:00 260689     /usr/bin/node (deleted)", 800, 0),
  block("7f58cb000000-7f58cb001000 r--p 00000000 fe:00 260689     /usr/bin/node", 4, undefined),
  block("7ffd1c5f3000-7ffd1c5f5000 r-xp 00000000 00:00 0     [vdso]", 8, 0),
].join("\n");

describe("droppableRanges (which of the node binary's pages MADV_DONTNEED may drop)", () => {
  it("takes the binary's read-only private file mappings with no copied page, and nothing else", () => {
    expect(droppableRanges(`${SMAPS}\n`, NODE)).toEqual([
      { start: 0x400000n, end: 0xb6f000n, rss: 5948 * 1024 },
      { start: 0xb72000n, end: 0x25fe000n, rss: 16632 * 1024 },
      { start: 0x2601000n, end: 0x563a000n, rss: 7548 * 1024 },
      { start: 0x7f58c6e00000n, end: 0x7f58c6f92000n, rss: 576 * 1024 },
      { start: 0x7f58ca000000n, end: 0x7f58ca200000n, rss: 800 * 1024 },
    ]);
  });

  it("leaves out every mapping when the binary is another file, and reads an empty or foreign text as nothing", () => {
    expect(droppableRanges(SMAPS, "/usr/lib/bootwarden/node")).toEqual([]);
    expect(droppableRanges("", NODE)).toEqual([]);
    expect(droppableRanges("Rss: 12 kB\nAnonymous: 0 kB\n", NODE)).toEqual([]);
  });

  it("on this process: the kernel shows the relocated read-only part with copied pages, and it is never taken", () => {
    const smaps = readFileSync("/proc/self/smaps", "utf8");
    const picked = droppableRanges(smaps, process.execPath);
    // The real binary has code and read-only data resident: the rule finds them.
    expect(picked.length).toBeGreaterThan(0);
    const blocks = smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
    const own = blocks.filter((b) => b.split("\n")[0]!.endsWith(` ${process.execPath}`));
    const withCopies = own.filter((b) => !/^Anonymous:\s+0 kB$/m.test(b));
    // RELRO and .data: both exist in every dynamically linked binary, both have copied pages.
    expect(withCopies.length).toBeGreaterThanOrEqual(2);
    for (const b of withCopies) {
      const [s] = b.split(" ")[0]!.split("-");
      expect(picked.map((r) => r.start)).not.toContain(BigInt(`0x${s}`));
    }
  });
});
