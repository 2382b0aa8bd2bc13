import { nativeAddon } from "../native/addon.js";

let gc: ((options?: object) => void) | undefined;

/** V8 12 (Node 22) and later collect everything and return the freed pages at once only when asked for it. */
const LAST_RESORT = Number(process.versions.v8.split(".")[0]) >= 12;

/**
 * One full collection of V8's heap, for when the daemon goes idle. V8's own memory reducer, which would do it, is
 * off in bootwarden.service (`--no-memory-reducer`): in an idle daemon it judged the allocation rate by samples that
 * had stopped coming, and on Node 24 found it "high" every 8 s for 100 s after the last collection, waking the
 * daemon each time without collecting (`--trace-memory-reducer`; bench: idle wake-ups). The daemon knows when it is
 * idle, and collects then (IdleCollector, src/daemon/idle-collector.ts).
 *
 * How, per V8 (measured with a heap of 45 MB of garbage, RssAnon after): on Node 22 and 24 a plain major collection
 * keeps the freed pages pooled (55 -> 55 MB); the "last-resort" flavour, which also drops the compilation cache,
 * returns them before it ends (55 -> 11 MB). Node 20's V8 knows no flavours (an options object makes it a minor
 * collection); its plain major collection returns the pages from its own threads within a second (55 -> 13 MB).
 *
 * `--expose-gc` set after start-up (v8.setFlagsFromString, which Node allows) only reaches contexts created after
 * it: hence the function taken from a new one, once.
 */
export function collectGarbage(): void {
  if (!gc) {
    // Loaded here, seconds after the verdict, not on the start path.
    process.getBuiltinModule("node:v8").setFlagsFromString("--expose-gc");
    gc = process.getBuiltinModule("node:vm").runInNewContext("gc") as (options?: object) => void;
  }
  if (LAST_RESORT) gc({ type: "major", execution: "sync", flavor: "last-resort" });
  else gc();
}

/**
 * After the collection: glibc keeps what Node's C++ side freed (buffers' backing stores, V8's own malloc'd tables, the
 * start's parse and compile buffers) in its arenas for reuse, one arena per thread that allocated; the kernel gets no
 * page of it back. malloc_trim(0) returns every whole free page in every arena. After a minute idle (`one.mjs`,
 * 1 critical unit): RssAnon 14.9 -> 13.6 MB on Node 24 in the sysext, 12.5 -> 12.0 MB on Node 20.
 */
export function returnFreePages(): boolean {
  return nativeAddon().mallocTrim();
}

/**
 * Where the kernel backs anonymous memory with transparent huge pages whenever it can (`always`: Debian's and RHEL's
 * kernels), a first touch anywhere in a 2 MB-aligned stretch of V8's heap or of a malloc arena makes all 2 MB resident,
 * and they stay so, in use or not. Asked first thing at the daemon's start (it is inherited by nothing that matters:
 * checks and hooks run as their own units). In a cgroup v2 guest with THP `always` (`vm-memory.sh lts 60`): RssAnon
 * after a minute idle 13.8 MB, none of it in huge pages, against 19.2 MB with 8.4 MB in huge pages. Hosts set to
 * `madvise` (the bench's container) are unchanged.
 */
export function avoidHugePages(): boolean {
  return nativeAddon().noHugePages();
}
