import { existsSync } from "node:fs";
import { lstat } from "node:fs/promises";
import path from "node:path";
import type { FSWatcher } from "chokidar";
import type { Observation } from "../core/assessment.js";
import { flagPathProblem } from "../trust/flags.js";

export interface FlagSpec {
  id: string;
  file: string; // already root-prefixed
  /** The flag as configured (not prefixed), for its trust check. */
  path: string;
  failure: boolean; // true: its appearance means failure
  /**
   * Judge the directories again when the flag appears: one created after the start (checked then only as far as it
   * existed) may belong to another user, who could then fake the flag.
   */
  checkTrust: boolean;
}

function nearestExisting(dir: string): string {
  let d = dir;
  while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

/**
 * Flag files under /run. chokidar can miss a file created inside a directory that appeared after the watch began,
 * so every event (and the initial scan) re-checks all flags with stat rather than trusting the event's path.
 */
export class FlagWatcher {
  private watcher?: FSWatcher;
  private last = new Map<string, string>();

  constructor(
    private readonly flags: readonly FlagSpec[],
    private readonly onObservation: (id: string, obs: Observation) => void,
    private readonly now: () => number,
  ) {}

  async start(): Promise<void> {
    if (this.flags.length === 0) return;
    const roots = [...new Set(this.flags.map((f) => nearestExisting(path.dirname(f.file))))];
    const depth = Math.max(
      ...this.flags.map(
        (f) => path.relative(nearestExisting(path.dirname(f.file)), f.file).split(path.sep).length,
      ),
    );
    const wanted = new Set(this.flags.map((f) => f.file));
    const dirs = new Set(this.flags.flatMap((f) => ancestors(f.file)));
    // Loaded only when there are flags to watch: most of a start's parsing otherwise, for nothing.
    const { watch } = await import("chokidar");
    this.watcher = watch(roots, {
      depth,
      ignoreInitial: true,
      // Only the flags and the directories leading to them: never crawl all of /run.
      ignored: (p: string) => !wanted.has(p) && !dirs.has(p) && !roots.includes(p),
    });
    const recheck = () => void this.recheck();
    this.watcher.on("all", (event) => {
      recheck();
      if (event === "addDir") setTimeout(recheck, 50).unref();
    });
    await new Promise<void>((resolve) => this.watcher!.once("ready", () => resolve()));
    await this.recheck();
  }

  async recheck(): Promise<void> {
    for (const f of this.flags) {
      const obs = await observeFlag(f, this.now());
      const key = `${obs.kind}:${obs.detail}`;
      if (this.last.get(f.id) === key) continue;
      this.last.set(f.id, key);
      this.onObservation(f.id, obs);
    }
  }

  async close(): Promise<void> {
    await this.watcher?.close();
  }
}

function ancestors(file: string): string[] {
  const out: string[] = [];
  for (let d = path.dirname(file); path.dirname(d) !== d; d = path.dirname(d)) out.push(d);
  return out;
}

/**
 * Presence only, by lstat: a flag is never opened or followed, and its content never becomes a reason (a failFlag
 * pointing at /etc/shadow must not copy a line of it into a world-readable verdict).
 */
async function observeFlag(f: FlagSpec, now: number): Promise<Observation> {
  const present = await lstat(f.file).then(
    (s) => s.isFile() || s.isSymbolicLink(),
    () => false,
  );
  const untrusted = present && f.checkTrust ? await flagPathProblem(f.path) : undefined;
  if (untrusted)
    return f.failure
      ? { kind: "up", since: now, detail: `ignored: ${untrusted}` }
      : { kind: "pending", detail: `ignored: ${untrusted}` };
  if (f.failure)
    return present ? { kind: "failed", detail: "appeared" } : { kind: "up", since: now, detail: "absent" };
  return present ? { kind: "up", since: now, detail: "present" } : { kind: "pending", detail: "absent" };
}
