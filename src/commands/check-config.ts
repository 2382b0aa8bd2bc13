import { BootwardenError } from "../base/errors.js";
import { createBackend } from "../bootstate/registry.js";
import { writePath } from "../bootstate/writable.js";
import { saveConfigCache } from "../config/cache.js";
import { loadConfig } from "../config/load.js";
import { connectSystemd } from "../systemd/bus.js";
import { enforceFlagTrust } from "../trust/flags.js";
import { findScripts } from "../trust/scripts.js";
import { checkPaths } from "./check-paths.js";
import { checkUnits } from "./check-units.js";
import { applySandbox, sandboxAdvice, sandboxAllows } from "./sandbox.js";

/**
 * `bootwarden check-config [--apply]`: validates the configuration and the flag paths it trusts, and checks that the
 * units' sandbox lets them write the configured boot state; --apply writes the drop-ins that do.
 */
export async function checkConfig(
  configPath: string | undefined,
  apply: boolean,
  connect = () => connectSystemd(3_000),
): Promise<number> {
  const loaded = await loadConfig(configPath);
  const { config, files } = loaded;
  const warn = (m: string) => process.stderr.write(`bootwarden: warning: ${m}\n`);
  const paths = await checkPaths(config.bootState);
  if (paths.errors.length) throw new BootwardenError("config", "invalid", paths.errors.join("; "));
  paths.warnings.forEach(warn);
  // Mender's and SWUpdate's booted slot comes from root=: say at install time when it cannot (an unreadable env is
  // the daemon's error to report, not this check's).
  if (config.bootState.backend === "uboot" && config.bootState.scheme !== "rauc")
    for (const m of (
      await createBackend(config.bootState)
        .read()
        .catch(() => undefined)
    )?.problems ?? [])
      warn(`bootState: ${m}`);
  await enforceFlagTrust(config.assessment, (p) => warn(`flag path other users can write: ${p}`));
  const scripts = await findScripts(config, warn);
  const c = config.assessment.critical;
  const critical =
    c.units.length + c.flags.length + c.failFlags.length + c.commands.length + scripts.checks.critical.length;
  if (critical === 0 && !config.assessment.noFailedUnits)
    warn(
      "no critical check (assessment.critical is empty): every trial would be blessed as soon as it starts; name the units the machine must run, e.g. critical: {units: [ssh.service]}",
    );
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
  // Last, and only for a configuration valid otherwise: it asks systemd, which may take a moment.
  const units = await checkUnits(config.assessment, connect);
  units.warnings.forEach(warn);
  if (units.errors.length) throw new BootwardenError("config", "invalid", units.errors.join("; "));
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
