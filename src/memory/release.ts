import { readFileSync } from "node:fs";
import { type NativeAddon, nativeAddon } from "../native/addon.js";
import { collectAndQuiet } from "./heap.js";
import { droppableRanges } from "./smaps.js";

export interface Released {
  /** V8's heap after a full collection (used bytes). */
  heapUsed: number;
  /** Resident bytes of the node binary no longer mapped (they stay in the page cache). */
  binaryBytes: number;
  /** Whether glibc gave free heap memory back to the kernel. */
  heapTrimmed: boolean;
}

/** Gives back what an idle daemon does not use; throws when it cannot (the addon missing, a call refused). */
export interface MemoryReleaser {
  release(): Released;
}

/**
 * The real releaser, in this order: a full collection of V8's heap (heap.ts), malloc's free chunks (which the
 * collection adds to), the node binary's droppable mappings (smaps.ts says which; the collection touched the
 * collector's own code first). The addon is loaded at the first release, not on the start path.
 */
export function nativeReleaser(
  smapsPath = "/proc/self/smaps",
  binary = process.execPath,
  addon: () => NativeAddon = nativeAddon,
): MemoryReleaser {
  return {
    release() {
      const native = addon();
      collectAndQuiet();
      const heapUsed = process.memoryUsage().heapUsed;
      const heapTrimmed = native.mallocTrim();
      let binaryBytes = 0;
      for (const r of droppableRanges(readFileSync(smapsPath, "utf8"), binary)) {
        native.dropPages(r.start, r.end - r.start);
        binaryBytes += r.rss;
      }
      return { heapUsed, binaryBytes, heapTrimmed };
    },
  };
}
