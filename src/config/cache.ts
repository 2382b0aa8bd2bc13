import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeAtomic } from "../base/atomic-write.js";
import { DEFAULT_CONFIG, DEFAULT_CONFIG_DIR, STATE_DIR, sysPath } from "../base/paths.js";
import { readJson } from "../base/read-json.js";
import { readRegular } from "../base/read-regular.js";
import type { LoadedConfig } from "./load.js";
import type { Config } from "./schema.js";

/**
 * The validated configuration, kept in /var/lib/bootwarden (root only) keyed by the exact bytes of every source file
 * and the code that validated it, so that a boot with an unchanged configuration starts without loading the YAML
 * parser and the schema library (most of the daemon's start-up). Any change to a file, a drop-in added or removed, or
 * a new bootwarden build misses the cache and validates again. Nothing here imports yaml or zod.
 */

const CACHE = path.join(STATE_DIR, "config-cache.json");

interface Entry {
  key: string;
  files: string[];
  config: Config;
}

/**
 * The same files loadConfig reads, in its order; absent ones (no config.yaml) are part of the key as absent. The key
 * is the bytes themselves (one char per byte), not a digest: compared exactly, and no hash library on the start path.
 */
async function sourceKey(explicit?: string): Promise<string> {
  const self = await stat(fileURLToPath(import.meta.url)).catch(() => undefined);
  const parts = [`code ${process.argv[1] ?? ""} ${self?.size ?? 0} ${self?.mtimeMs ?? 0}`];
  let files: string[];
  if (explicit) files = [explicit];
  else {
    const dropins = await readdir(sysPath(DEFAULT_CONFIG_DIR)).catch(() => [] as string[]);
    files = [
      DEFAULT_CONFIG,
      ...dropins
        .filter((f) => f.endsWith(".yaml"))
        .sort()
        .map((f) => path.join(DEFAULT_CONFIG_DIR, f)),
    ];
  }
  for (const f of files) {
    const bytes = await readRegular(explicit ? f : sysPath(f), 1 << 20).catch(() => undefined);
    parts.push(f, bytes ? String(bytes.length) : "-1", bytes ? bytes.toString("latin1") : "");
  }
  return parts.join("\0");
}

export async function cachedConfig(explicit?: string): Promise<LoadedConfig | undefined> {
  const e = await readJson<Entry>(sysPath(CACHE));
  if (!e || typeof e.key !== "string" || !e.config) return undefined;
  return e.key === (await sourceKey(explicit)) ? { config: e.config, files: e.files } : undefined;
}

/** Best effort: a cache that cannot be written only costs the next start its validation. */
export async function saveConfigCache(explicit: string | undefined, loaded: LoadedConfig): Promise<void> {
  const entry: Entry = { key: await sourceKey(explicit), files: loaded.files, config: loaded.config };
  await writeAtomic(sysPath(CACHE), `${JSON.stringify(entry)}\n`, { mode: 0o600, dirMode: 0o700 }).catch(
    () => undefined,
  );
}

/** The configuration as the daemon starts with it: from the cache, else validated (and cached for the next boot). */
export async function loadConfigFast(explicit?: string): Promise<LoadedConfig> {
  const hit = await cachedConfig(explicit);
  if (hit) return hit;
  const { loadConfig } = await import("./load.js");
  const loaded = await loadConfig(explicit);
  await saveConfigCache(explicit, loaded);
  return loaded;
}
