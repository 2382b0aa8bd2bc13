import { stat } from "node:fs/promises";
import { errnoText } from "../base/errors.js";
import { sysPath } from "../base/paths.js";
import type { BootStateConfig } from "../config/schema.js";

type Kind = "block device or file" | "file" | "directory";

/** The configured boot-state paths, each with the key that names it and the kind it must be. */
function pathsOf(cfg: BootStateConfig): [key: string, path: string, kind: Kind][] {
  switch (cfg.backend) {
    case "gpt":
      return cfg.disk ? [["bootState.disk", cfg.disk, "block device or file"]] : [];
    case "grubenv":
      return [["bootState.path", cfg.path, "file"]];
    case "bls":
      return cfg.esp ? [["bootState.esp", cfg.esp, "directory"]] : [];
    case "uboot":
      return cfg.env
        ? cfg.env.map((c, i) => [`bootState.env[${i}].device`, c.device, "block device or file"] as const)
        : [["bootState.envConfig", cfg.envConfig, "file"]];
  }
}

const isKind = (k: Kind, s: Awaited<ReturnType<typeof stat>>) =>
  k === "directory" ? s.isDirectory() : k === "file" ? s.isFile() : s.isFile() || s.isBlockDevice();

/**
 * `check-config`: each path the boot state is read from exists and is of the right kind; one line per problem. A
 * path under /run that is not there yet is only a warning: /run is filled at boot (Kairos mounts its state
 * partition under /run/initramfs), and an image build checks the configuration before any boot.
 */
export async function checkPaths(cfg: BootStateConfig): Promise<{ errors: string[]; warnings: string[] }> {
  const out = { errors: [] as string[], warnings: [] as string[] };
  for (const [key, p, kind] of pathsOf(cfg)) {
    try {
      if (!isKind(kind, await stat(sysPath(p)))) out.errors.push(`${key}: ${p} is not a ${kind}`);
    } catch (err) {
      const code = errnoText(err);
      if (code === "ENOENT" && p.startsWith("/run/"))
        out.warnings.push(`${key}: ${p} is not there now (under /run, it may appear at boot)`);
      else out.errors.push(`${key}: ${p}: ${code === "ENOENT" ? "does not exist" : code}`);
    }
  }
  return out;
}
