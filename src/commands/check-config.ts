import { BootwardenError } from "../base/errors.js";
import { loadConfig } from "../config/load.js";
import { configFlags, untrustedFlags } from "../watch/flag-trust.js";

/** `bootwarden check-config`: validates the configuration (the files named) and the flag paths it trusts, and exits. */
export async function checkConfig(configPath: string | undefined): Promise<number> {
  const { config, files } = await loadConfig(configPath);
  const untrusted = await untrustedFlags(configFlags(config.assessment));
  for (const p of untrusted)
    process.stderr.write(`bootwarden: warning: flag path other users can write: ${p}\n`);
  if (untrusted.length > 0 && !config.assessment.allowUntrustedFlagPaths)
    throw new BootwardenError(
      "config",
      "unsafe",
      `${untrusted[0]}; refusing untrusted flag paths (assessment.allowUntrustedFlagPaths: true accepts them)`,
      78,
    );
  process.stdout.write(
    `config OK (${files.join(", ") || "built-in defaults"}): backend ${config.bootState.backend}\n`,
  );
  return 0;
}
