import path from "node:path";

/**
 * Every system path goes through here so that tests (and image builders) can run the real code
 * against a copied tree: BOOTWARDEN_ROOT=/tmp/fixture makes /etc/bootwarden/... resolve inside it.
 */
export function rootPrefix(): string {
  return process.env.BOOTWARDEN_ROOT ?? "/";
}

export function sysPath(p: string): string {
  if (!path.isAbsolute(p)) return p;
  const root = rootPrefix();
  return root === "/" ? p : path.join(root, p);
}

export const DEFAULT_CONFIG = "/etc/bootwarden/config.yaml";
export const DEFAULT_CONFIG_DIR = "/etc/bootwarden/config.d";
export const RUN_DIR = "/run/bootwarden";
export const STATE_DIR = "/var/lib/bootwarden";
export const MOTD_FILE = "/run/motd.d/bootwarden";
