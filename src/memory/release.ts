import { readFileSync } from "node:fs";
import { type NativeAddon, nativeAddon } from "../native/addon.js";
import { collectGarbage } from "./heap.js";
import { droppableRanges } from "./smaps.js";

export interface Trimmed {
  /** Resident bytes of the node binary no longer mapped (they stay in the page cache). */
  binaryBytes: number;
  /** Whether glibc gave free heap memory back to the kernel. */
  heapTrimmed: boolean;
}

/**
 * Gives back what an idle daemon does not use, in two steps with a pause between (ReleaseSchedule): the collection
 * first, whose freeing may go on in V8's own threads, then the trim. Both throw when they cannot.
 */
export interface MemoryReleaser {
  /** A full collection of V8's heap; returns the bytes in use after it. */
  collect(): number;
  /** malloc's free chunks (which the collection adds to), then the node binary's droppable mappings. */
  trim(): Trimmed;
}

/** The real releaser. The addon is loaded at the first trim, not on the start path. */
export function nativeReleaser(
  smapsPath = "/proc/self/smaps",
  binary = process.execPath,
  addon: () => NativeAddon = nativeAddon,
): MemoryReleaser {
  return {
    collect() {
      collectGarbage();
      return process.memoryUsage().heapUsed;
    },
    trim() {
      const native = addon();
      const heapTrimmed = native.mallocTrim();
      let binaryBytes = 0;
      // The binary's pages last: the collection and malloc_trim ran code in it that the idle daemon will not run.
      for (const r of droppableRanges(readFileSync(smapsPath, "utf8"), binary)) {
        native.dropPages(r.start, r.end - r.start);
        binaryBytes += r.rss;
      }
      return { binaryBytes, heapTrimmed };
    },
  };
}
