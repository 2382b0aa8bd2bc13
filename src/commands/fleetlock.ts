import { readFile } from "node:fs/promises";
import type { HookRunner } from "../actions/ports.js";
import { BootwardenError, describeError, isCode } from "../base/errors.js";
import type { Logger } from "../base/log.js";
import { sysPath } from "../base/paths.js";
import { printable } from "../core/printable.js";
import type { SystemdApi } from "../systemd/api.js";

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

/** One FleetLock call (Zincati's protocol): 200 is success, anything else a failure with the server's reason. */
export async function fleetlockCall(
  url: string,
  op: "pre-reboot" | "steady-state",
  params: { id: string; group: string },
): Promise<{ ok: boolean; text: string }> {
  try {
    const r = await fetch(`${url.replace(/\/+$/, "")}/v1/${op}`, {
      method: "POST",
      headers: { "fleet-lock-protocol": "true", "content-type": "application/json" },
      body: JSON.stringify({ client_params: params }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await r.text()).slice(0, 300);
    if (r.status === 200) return { ok: true, text: `${op}: ${params.group}/${params.id}: ok` };
    return {
      ok: false,
      text: `${op}: ${params.group}/${params.id}: HTTP ${r.status} ${printable(body.trim())}`,
    };
  } catch (err) {
    return {
      ok: false,
      text: `${op}: ${url}: ${printable((err as Error).cause ? String((err as Error).cause) : (err as Error).message)}`,
    };
  }
}

/**
 * `bootwarden fleetlock release`: steady-state for this machine, run by the daemon as a transient unit after a
 * blessing (outside its sandbox, which has no network). The verdict is already on disk, so it is retried with a
 * growing pause until the server says yes; `--once` tries once.
 */
export async function fleetlockRelease(configPath: string | undefined, once: boolean): Promise<number> {
  const { loadConfig } = await import("../config/load.js"); // the daemon imports this file: no yaml or zod on its start
  const { config } = await loadConfig(configPath);
  const f = config.fleetlock;
  if (!f) throw new BootwardenError("config", "invalid", "fleetlock: not configured (fleetlock.url)");
  const id = f.id ?? (await readFile(sysPath("/etc/machine-id"), "utf8")).trim();
  for (let pause = FIRST_RETRY_MS; ; pause = Math.min(pause * 2, MAX_RETRY_MS)) {
    const r = await fleetlockCall(f.url, "steady-state", { id, group: f.group });
    process.stdout.write(`${r.ok ? "released the reboot lock: " : ""}${r.text}\n`);
    if (r.ok) return 0;
    if (once) return 1;
    process.stdout.write(`trying again in ${pause / 1000}s\n`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

export const RELEASE_UNIT = "bootwarden-fleetlock-release.service";

/**
 * The green hooks, then the release of the group's reboot lock as a transient unit (after network-online.target,
 * retrying until the server agrees). A rolled-back trial never calls the server: the reboot waits on no network and
 * the lock stays held, so the group stops until someone looks.
 */
export function withFleetLock(
  hooks: HookRunner,
  enabled: boolean,
  systemd: SystemdApi,
  configPath: string | undefined,
  log: Logger,
): HookRunner {
  if (!enabled) return hooks;
  return {
    async run(which, ctx) {
      await hooks.run(which, ctx);
      if (which !== "green") return;
      const argv = [process.execPath, process.argv[1] ?? "/usr/bin/bootwarden", "fleetlock-release"];
      if (configPath) argv.push("--config", configPath);
      await systemd
        .startTransient(RELEASE_UNIT, {
          description: "bootwarden: release the FleetLock reboot lock after a blessed trial",
          argv,
          timeoutMs: 24 * 3_600_000,
          network: true,
          environment: [],
          remainAfterExit: true,
        })
        .then(
          () => log.info(`releasing the FleetLock reboot lock (journalctl -u ${RELEASE_UNIT})`),
          (err: unknown) =>
            isCode(err, "exists")
              ? undefined
              : log.warn(`could not start ${RELEASE_UNIT}: ${describeError(err)}`),
        );
    },
  };
}
