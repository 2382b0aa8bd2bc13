import { unlinkSync } from "node:fs";
import path from "node:path";
import { writeAtomic } from "../base/atomic-write.js";
import { RUN_DIR, sysPath } from "../base/paths.js";
import type { FlagWriter } from "./ports.js";

/** bootwarden-healthy.path fires on /run/bootwarden/healthy; unhealthy carries the reason (0640: reasons are private). */
export class FileFlagWriter implements FlagWriter {
  constructor(readonly dir = sysPath(RUN_DIR)) {}

  async write(which: "healthy" | "unhealthy", reason: string): Promise<void> {
    const other = which === "healthy" ? "unhealthy" : "healthy";
    // unlink, not rm({ force }): Node 20 loads its rimraf module at the first rmSync, on the verdict's path
    // (test/tools/mark-path.test.ts).
    try {
      unlinkSync(path.join(this.dir, other));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    await writeAtomic(path.join(this.dir, which), `${reason}\n`, { mode: 0o640 });
  }

  trial(slot: string): Promise<void> {
    return writeAtomic(path.join(this.dir, "trial"), `${slot}\n`, { mode: 0o644 });
  }
}
