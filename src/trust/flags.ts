import { stat } from "node:fs/promises";
import path from "node:path";
import { BootwardenError } from "../base/errors.js";
import { sysPath } from "../base/paths.js";
import { trustProblem } from "./rule.js";

/**
 * Why a flag path is not trustworthy, or undefined: a flag is a verdict any writer of its directory can fake (a
 * healthy flag) or force (a failFlag). Every existing ancestor must be owned by root and not group/world-writable;
 * /tmp is refused outright (the daemon has a private /tmp and never sees the host's).
 */
export async function flagPathProblem(flag: string): Promise<string | undefined> {
  const norm = path.normalize(flag);
  if (norm === "/tmp" || norm.startsWith("/tmp/") || norm.startsWith("/var/tmp/"))
    return `${flag}: under /tmp, which the daemon cannot see (PrivateTmp) and every user can write`;
  for (let d = path.dirname(norm); ; d = path.dirname(d)) {
    const st = await stat(sysPath(d)).catch(() => undefined);
    const problem = st && trustProblem(st);
    if (problem) return `${flag}: ${d} is ${problem}`;
    if (d === "/") return undefined;
  }
}

/** The problems of every flag and failFlag a config declares. */
export async function untrustedFlags(flags: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of flags) {
    const p = await flagPathProblem(f);
    if (p) out.push(p);
  }
  return out;
}

/** Every flag path a config's checks name, critical and wanted. */
export function configFlags(a: {
  critical: { flags: string[]; failFlags: string[] };
  wanted: { flags: string[]; failFlags: string[] };
}): string[] {
  return [a.critical, a.wanted].flatMap((g) => [...g.flags, ...g.failFlags]);
}

/**
 * The one flag-trust rule for check-config and the daemon: `warn` is told each problem; untrusted paths are refused
 * (an invalid configuration) unless the config accepts them.
 */
export async function enforceFlagTrust(
  a: Parameters<typeof configFlags>[0] & { allowUntrustedFlagPaths: boolean },
  warn: (problem: string) => void,
): Promise<void> {
  const untrusted = await untrustedFlags(configFlags(a));
  for (const p of untrusted) warn(p);
  if (untrusted.length > 0 && !a.allowUntrustedFlagPaths)
    throw new BootwardenError(
      "config",
      "unsafe",
      `${untrusted[0]}; refusing untrusted flag paths (assessment.allowUntrustedFlagPaths: true accepts them)`,
      78,
    );
}
