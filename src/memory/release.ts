import { readFileSync } from "node:fs";
import { type NativeAddon, nativeAddon } from "../native/addon.js";
import { droppableRanges } from "./smaps.js";

export interface Released {
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
 * The real releaser: the node binary's droppable mappings (smaps.ts says which) and malloc's free chunks. The addon
 * is loaded at the first release, not on the start path.
 */
export function nativeReleaser(
  smapsPath = "/proc/self/smaps",
  binary = process.execPath,
  addon: () => NativeAddon = nativeAddon,
): MemoryReleaser {
  return {
    release() {
      const native = addon();
      let binaryBytes = 0;
      for (const r of droppableRanges(readFileSync(smapsPath, "utf8"), binary)) {
        native.dropPages(r.start, r.end - r.start);
        binaryBytes += r.rss;
      }
      return { binaryBytes, heapTrimmed: native.mallocTrim() };
    },
  };
}
