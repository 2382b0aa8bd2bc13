import { watch } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { FileStatusStore } from "../actions/status-store.js";
import { TrialRecords } from "../actions/trials.js";
import { BootwardenError } from "../base/errors.js";
import { createBackend } from "../bootstate/registry.js";
import type { BootState } from "../bootstate/types.js";
import { formatDuration, parseDuration } from "../config/duration.js";
import { loadConfig } from "../config/load.js";
import { printable } from "../core/printable.js";
import type { DaemonStatus } from "../core/status.js";
import type { TrialRecord } from "../core/trial-log.js";

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

/** `bootwarden wait`'s exit statuses, for rollout Jobs (README "Fleets"). */
export const WAIT = { blessed: 0, failed: 1, timeout: 2, notBooted: 3 } as const;

/**
 * Where a target slot stands in a boot that is not its own: rolled back (its trial's last verdict was unhealthy, or
 * the boot state says it is bad) or not booted yet. Pure.
 */
export function elsewhereOutcome(
  boot: BootState,
  target: { name: string; id: string; bad: boolean },
  history: readonly TrialRecord[],
): { code: number; text: string } {
  const last = history.findLast((r) => r.id === target.id);
  if (last?.verdict === "unhealthy")
    return { code: WAIT.failed, text: `${target.name} was rolled back: ${last.reason ?? ""}` };
  if (target.bad)
    return { code: WAIT.failed, text: `${target.name} is marked bad; booted ${boot.bootedSlot}` };
  return { code: WAIT.notBooted, text: `not booted into ${target.name} yet (booted ${boot.bootedSlot})` };
}

/**
 * `bootwarden wait [--slot SLOT] [--timeout T]`: this boot's verdict, or (with a slot) the verdict on that target,
 * which is this boot's only when the machine booted it. A rollout Job's step: 0 blessed, 1 rolled back or bad,
 * 2 timeout, 3 not booted into the target yet.
 */
export async function waitFor(
  configPath: string | undefined,
  slot: string | undefined,
  timeout: string | undefined,
): Promise<{ code: number; text: string }> {
  const timeoutMs = timeout === undefined ? undefined : parseDuration(timeout);
  if (timeout !== undefined && timeoutMs === undefined)
    throw new BootwardenError(
      "cli",
      "usage",
      `wait: --timeout ${JSON.stringify(timeout)}: not a duration (90s, 15m, 1h); see bootwarden --help`,
    );
  if (slot !== undefined) {
    const { config } = await loadConfig(configPath);
    const backend = createBackend(config.bootState);
    const boot = await backend.read();
    const id = await backend.identify(slot);
    if (boot.bootedId !== id) {
      const ids = await Promise.all(
        boot.slots.map((s) =>
          backend.identify(s.name).then(
            (x) => ({ x, s }),
            () => undefined,
          ),
        ),
      );
      const bad = ids.some((r) => r?.x === id && r.s.state === "bad");
      const history = await new TrialRecords().history();
      return elsewhereOutcome(boot, { name: slot, id, bad }, history);
    }
  }
  return waitForVerdict(timeoutMs);
}

/** Blocks until the daemon has a verdict (or the timeout). Woken by inotify on /run/bootwarden, no polling. */
export async function waitForVerdict(timeoutMs?: number): Promise<{ code: number; text: string }> {
  const store = new FileStatusStore();
  const file = store.statusFile;
  await mkdir(path.dirname(file), { recursive: true });
  return new Promise((resolve) => {
    let settled = false;
    const watcher = watch(path.dirname(file), () => void check());
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            settled = true;
            watcher.close();
            resolve({ code: WAIT.timeout, text: `no verdict within ${formatDuration(timeoutMs)}` });
          }, timeoutMs);
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
        clearTimeout(timer);
        watcher.close();
        resolve(out);
      }
    };
    void check();
  });
}
