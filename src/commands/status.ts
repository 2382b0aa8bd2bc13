import { readFile } from "node:fs/promises";
import { FileStatusStore } from "../actions/status-store.js";
import { realClock } from "../base/clock.js";
import { parseOsRelease } from "../base/os-release.js";
import { sysPath } from "../base/paths.js";
import { createBackend } from "../bootstate/registry.js";
import { loadConfig } from "../config/load.js";
import { printable } from "../core/printable.js";
import { type StatusJson, statusJson } from "../core/status-json.js";
import { fetchStatus } from "../systemd/api-client.js";
import { formatStatus } from "./status-format.js";

/** `bootwarden status [--json]`: through the daemon's API when it runs (and no other config is asked for), else the files. */
export async function status(configPath: string | undefined, json: boolean): Promise<number> {
  const viaApi = configPath === undefined ? await fetchStatus() : undefined;
  const out = (viaApi ?? (await fromFiles(configPath))) as unknown as StatusJson;
  const os = await osName();
  if (os) out.os = os;
  if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else process.stdout.write(`${formatStatus(out).map(printable).join("\n")}\n`);
  return 0;
}

/** The running OS (the booted slot's): os-release's PRETTY_NAME, or nothing. */
async function osName(): Promise<string | undefined> {
  for (const f of ["/etc/os-release", "/usr/lib/os-release"]) {
    const text = await readFile(sysPath(f), "utf8").catch(() => undefined);
    const name = text === undefined ? undefined : parseOsRelease(text).get("PRETTY_NAME");
    if (name) return name;
  }
  return undefined;
}

async function fromFiles(configPath: string | undefined): Promise<Record<string, unknown>> {
  const { config } = await loadConfig(configPath);
  const boot = await createBackend(config.bootState).read({ nextBoot: true });
  const { status: daemon, problem } = await new FileStatusStore().readChecked();
  if (problem) process.stderr.write(`bootwarden: ${printable(problem)}; the live assessment is not shown\n`);
  return { ...statusJson(boot, daemon, realClock.now()) };
}
