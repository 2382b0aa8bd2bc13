import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** src/native/bootwarden.c: flock(2), malloc_trim(3) and PR_SET_THP_DISABLE, which Node has no binding for. */
export interface NativeAddon {
  /** flock(fd, LOCK_EX | LOCK_NB): true when taken, false when another open file holds it; throws otherwise. */
  tryLock(fd: number): boolean;
  /** malloc_trim(0): glibc's free pages, in every arena, given back to the kernel; true when there were some. */
  mallocTrim(): boolean;
  /** prctl(PR_SET_THP_DISABLE, 1): no transparent huge pages for this process from now on; true when set. */
  noHugePages(): boolean;
}

/**
 * Where this code may run from, relative to itself: dist/native/addon.js (the build's own tree), the bundle's entry
 * (LIB/bootwarden.mjs) or one of its chunks (LIB/chunks/), and the TypeScript source under the tests (src/native/,
 * next to the build's dist/). The build puts the addon at dist/native/, the installs at LIB/native/.
 */
const CANDIDATES = [
  "./bootwarden.node",
  "./native/bootwarden.node",
  "../native/bootwarden.node",
  "../../dist/native/bootwarden.node",
];

let loaded: NativeAddon | undefined;

/** The addon, loaded once; throws one line naming where it looked when the build or the install lacks it. */
export function nativeAddon(): NativeAddon {
  if (loaded) return loaded;
  const paths = CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url)));
  const found = paths.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `native addon bootwarden.node missing (looked in ${paths.join(", ")}): run npm run build`,
    );
  loaded = createRequire(import.meta.url)(found) as NativeAddon;
  return loaded;
}
