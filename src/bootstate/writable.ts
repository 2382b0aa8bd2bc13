import { access, constants, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { errnoText } from "../base/errors.js";
import { sysPath } from "../base/paths.js";
import type { BootStateConfig } from "../config/schema.js";
import { readFwEnvConfig } from "./uboot/env-file.js";

/** Where the units' sandbox (ProtectSystem=strict) lets bootwarden write without a drop-in. */
export const UNIT_WRITABLE = ["/boot", "/efi", "/boot/efi"];

/**
 * The path the configured boot state is written through, as the units' ReadWritePaths= must name it: a GPT image
 * file itself, a grubenv's real directory (it is replaced by rename), a configured ESP, a U-Boot env file. Undefined for block devices,
 * which the units allow by device policy, a disk found from the booted partition (always a device), and the default
 * ESP locations.
 */
export async function writePath(cfg: BootStateConfig): Promise<string | undefined> {
  if (cfg.backend === "gpt") {
    if (!cfg.disk || cfg.disk.startsWith("/dev/")) return undefined;
    const st = await stat(sysPath(cfg.disk)).catch(() => undefined);
    return st?.isBlockDevice() ? undefined : cfg.disk;
  }
  // BLS entries live on the ESP or XBOOTLDR; a configured esp outside the defaults needs the drop-in too.
  if (cfg.backend === "bls") return cfg.esp;
  // A U-Boot environment is written in place: the file itself (a device is allowed by device policy).
  if (cfg.backend === "uboot") {
    const locs = cfg.env ?? (await readFwEnvConfig(cfg.envConfig).catch(() => []));
    const dev = locs[0]?.device;
    const st = dev ? await stat(sysPath(dev)).catch(() => undefined) : undefined;
    return dev && !dev.startsWith("/dev/") && !st?.isBlockDevice() ? dev : undefined;
  }
  const real = await realpath(sysPath(cfg.path)).catch(() => sysPath(cfg.path));
  const root = sysPath("/");
  return path.dirname(root === "/" ? real : `/${path.relative(root, real)}`);
}

export const isUnder = (p: string, dirs: readonly string[]) =>
  dirs.some((d) => p === d || p.startsWith(`${d}/`));

/** Whether this process may write there now: EROFS inside the service's sandbox, EACCES for a user. */
export async function writeProblem(p: string): Promise<string | undefined> {
  try {
    await access(sysPath(p), constants.W_OK);
    return undefined;
  } catch (err) {
    return `${p} is not writable here (${errnoText(err)})`;
  }
}
