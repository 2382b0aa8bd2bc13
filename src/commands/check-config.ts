import { BootwardenError } from "../base/errors.js";
import { writePath } from "../bootstate/writable.js";
import { saveConfigCache } from "../config/cache.js";
import { loadConfig } from "../config/load.js";
import { enforceFlagTrust } from "../trust/flags.js";
import { findScripts } from "../trust/scripts.js";
import { applySandbox, sandboxAdvice, sandboxAllows } from "./sandbox.js";

/**
 * `bootwarden check-config [--apply]`: validates the configuration and the flag paths it trusts, and checks that the
 * units' sandbox lets them write the configured boot state; --apply writes the drop-ins that do.
 */
export async function checkConfig(configPath: string | undefined, apply: boolean): Promise<number> {
  const loaded = await loadConfig(configPath);
  const { config, files } = loaded;
  await enforceFlagTrust(config.assessment, (p) =>
    process.stderr.write(`bootwarden: warning: flag path other users can write: ${p}\n`),
  );
  const scripts = await findScripts(config, (m) => process.stderr.write(`bootwarden: warning: ${m}\n`));
  const p = await writePath(config.bootState);
  if (p && !(await sandboxAllows(p))) {
    if (!apply)
      throw new BootwardenError(
        "config",
        "invalid",
        `bootState: ${p} is outside what the units may write (/boot, /efi, /boot/efi): ${sandboxAdvice(p)}`,
      );
    for (const f of await applySandbox(p)) process.stdout.write(`wrote ${f} (ReadWritePaths=${p})\n`);
    process.stdout.write("run systemctl daemon-reload for the units to pick it up\n");
  }
  // The daemon's next start then skips the validation (it checks the cache against the files' bytes).
  if (process.getuid?.() === 0) await saveConfigCache(configPath, loaded);
  const n = (l: readonly unknown[]) => l.length;
  const found = [
    n(scripts.checks.critical) && `${n(scripts.checks.critical)} critical check script(s)`,
    n(scripts.checks.wanted) && `${n(scripts.checks.wanted)} wanted check script(s)`,
    n(scripts.hooks.green) + n(scripts.hooks.red) &&
      `${n(scripts.hooks.green) + n(scripts.hooks.red)} hook script(s)`,
    n(scripts.skipped) &&
      `${n(scripts.skipped)} disabled (${scripts.skipped.map((f) => f.split("/").pop()).join(", ")})`,
  ].filter(Boolean);
  process.stdout.write(
    `config OK (${files.join(", ") || "built-in defaults"}): backend ${config.bootState.backend}${found.length ? `, ${found.join(", ")}` : ""}\n`,
  );
  return 0;
}
