import { watch } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { FileStatusStore } from "../actions/status-store.js";
import { printable } from "../core/printable.js";
import type { DaemonStatus } from "../core/status.js";

/** 0 = a blessing verdict (or a normal boot), 1 = unhealthy or the daemon could not assess; undefined = not yet. */
export function waitOutcome(s: DaemonStatus | undefined): { code: number; text: string } | undefined {
  if (!s) return undefined;
  switch (s.phase) {
    case "normal":
      return { code: 0, text: `normal boot of ${s.slot}` };
    case "config-error":
    case "error":
      return { code: 1, text: `the daemon could not assess this boot: ${s.error}` };
    case "assessing":
    case "verdict": {
      const v = s.assessment?.verdict;
      if (!v) return undefined;
      if (v.verdict === "unhealthy") return { code: 1, text: `unhealthy: ${v.reason}` };
      // Blessing verdicts count once the slot is marked good: what waits on us may rely on it.
      return s.done.includes("markGood") ? { code: 0, text: `${v.verdict}: ${v.reason}` } : undefined;
    }
  }
}

/** `bootwarden wait`: blocks until the daemon has a verdict. Woken by inotify on /run/bootwarden, no polling. */
export async function waitForVerdict(): Promise<{ code: number; text: string }> {
  const store = new FileStatusStore();
  const file = store.statusFile;
  await mkdir(path.dirname(file), { recursive: true });
  return new Promise((resolve) => {
    let settled = false;
    const watcher = watch(path.dirname(file), () => void check());
    let said = false;
    const check = async () => {
      const { status, problem } = await store.readChecked();
      if (problem && !said) {
        said = true; // the daemon's next write replaces it; until then there is nothing to wait on
        process.stderr.write(`bootwarden: ${printable(problem)}; waiting for the daemon to rewrite it\n`);
      }
      const out = waitOutcome(status);
      if (out && !settled) {
        settled = true;
        watcher.close();
        resolve(out);
      }
    };
    void check();
  });
}
