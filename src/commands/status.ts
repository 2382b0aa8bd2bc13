import { FileStatusStore } from "../actions/status-store.js";
import { realClock } from "../base/clock.js";
import { createBackend } from "../bootstate/registry.js";
import type { BootState } from "../bootstate/types.js";
import { loadConfig } from "../config/load.js";
import { printable } from "../core/printable.js";
import type { DaemonStatus } from "../core/status.js";
import { statusJson } from "../core/status-json.js";
import { fetchStatus } from "../systemd/api-client.js";
import { formatAssessment, formatBootState } from "./status-format.js";

/** `bootwarden status [--json]`: through the daemon's API when it runs (and no other config is asked for), else the files. */
export async function status(configPath: string | undefined, json: boolean): Promise<number> {
  const viaApi = configPath === undefined ? await fetchStatus() : undefined;
  const out = viaApi ?? (await fromFiles(configPath));
  if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    const { daemon, ...boot } = out as unknown as BootState & { daemon?: DaemonStatus };
    const lines = formatBootState(boot);
    if (daemon) lines.push(...formatAssessment(daemon, realClock.now()));
    process.stdout.write(`${lines.map(printable).join("\n")}\n`);
  }
  return 0;
}

async function fromFiles(configPath: string | undefined): Promise<Record<string, unknown>> {
  const { config } = await loadConfig(configPath);
  const boot = await createBackend(config.bootState).read();
  const { status: daemon, problem } = await new FileStatusStore().readChecked();
  if (problem) process.stderr.write(`bootwarden: ${printable(problem)}; the live assessment is not shown\n`);
  return statusJson(boot, daemon, realClock.now());
}
