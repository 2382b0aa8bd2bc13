import { lstat, readdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { BootwardenError, errnoText } from "../base/errors.js";
import { sysPath } from "../base/paths.js";
import { greenbootDisabled } from "../config/greenboot.js";
import type { Config } from "../config/schema.js";
import type { FoundScripts, Script } from "../core/checks.js";
import { trustProblem } from "./rule.js";

/**
 * The scripts in check and hook directories, and the rule that lets them run as root: the file and every directory
 * above it owned by root and writable by nobody else. A script another user can change is a root shell for them.
 */

/** A path resolved under the test root prefix, back to the path as the system sees it. */
const unprefix = (p: string) => path.resolve("/", path.relative(sysPath("/"), p));

const why = (err: unknown) => {
  const t = errnoText(err);
  return t === "ENOENT" ? "does not exist" : t === "ENOTDIR" ? "is not a directory" : t;
};

const MAX_LINKS = 40; // the kernel's own bound

/**
 * Follows `file` one component at a time, as the kernel does, and checks everything a path passes through: every
 * directory (from / down) and the file must be owned by root and writable by no one else, and every symbolic link
 * met on the way must be root's, in such a directory. Judging only the final target let a user's link in the middle
 * (`d.sh -> /var/tmp/link -> root's script`) be re-pointed after the check. Returns the resolved path, or why not.
 */
export async function trustedPath(file: string): Promise<{ real: string } | { problem: string }> {
  const rootProblem = trustProblem(await stat(sysPath("/")));
  if (rootProblem) return { problem: `directory / is ${rootProblem}` };
  let todo = file.split("/").filter(Boolean);
  let cur = "/";
  for (let links = 0; todo.length > 0; ) {
    const name = todo.shift()!;
    if (name === ".") continue;
    if (name === "..") {
      cur = path.dirname(cur);
      continue;
    }
    const next = path.join(cur, name);
    const l = await lstat(sysPath(next));
    if (l.isSymbolicLink()) {
      if (++links > MAX_LINKS) return { problem: `${file}: more than ${MAX_LINKS} symbolic links` };
      if (l.uid !== 0) return { problem: `symbolic link ${next} is owned by uid ${l.uid}, not root` };
      const target = await readlink(sysPath(next));
      // An absolute target inside the test root prefix is taken as the system path it stands for.
      const t = path.isAbsolute(target) ? unprefix(target) : target;
      if (path.isAbsolute(t)) cur = "/";
      todo = [...t.split("/").filter(Boolean), ...todo];
      continue;
    }
    const problem = trustProblem(l);
    if (problem)
      return {
        problem: `${todo.length > 0 || l.isDirectory() ? "directory" : "script"} ${next} is ${problem}`,
      };
    cur = next;
  }
  return { real: cur };
}

export interface Listing {
  scripts: Script[];
  problems: string[];
  /** Scripts not run because their name is disabled (greenboot's DISABLED_HEALTHCHECKS). */
  skipped: string[];
}

/**
 * Every executable regular file, and every *.sh (greenboot runs those with bash whatever their mode), in `dir`, in
 * lexical order, with the path each resolves to. Other entries (READMEs, subdirectories) are skipped.
 */
export async function listScripts(dir: string, disabled: ReadonlySet<string> = new Set()): Promise<Listing> {
  const out: Listing = { scripts: [], problems: [], skipped: [] };
  let names: string[];
  try {
    const d = await trustedPath(dir);
    if ("problem" in d) return { scripts: [], problems: [`${dir}: ${d.problem}`], skipped: [] };
    names = (await readdir(sysPath(d.real))).sort();
  } catch (err) {
    return { scripts: [], problems: [`${dir}: ${why(err)}`], skipped: [] };
  }
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const st = await stat(sysPath(file));
      if (!st.isFile() || !(name.endsWith(".sh") || st.mode & 0o111)) continue;
      if (disabled.has(name)) {
        out.skipped.push(file);
        continue;
      }
      const t = await trustedPath(file);
      if ("problem" in t) out.problems.push(`${file}: ${t.problem}`);
      else out.scripts.push({ file, exec: t.real });
    } catch (err) {
      out.problems.push(`${file}: ${why(err)}`);
    }
  }
  return out;
}

async function listAll(
  dirs: readonly string[],
  problems: string[],
  disabled?: ReadonlySet<string>,
  skipped?: string[],
): Promise<Script[]> {
  const scripts: Script[] = [];
  for (const d of dirs) {
    const l = await listScripts(d, disabled);
    scripts.push(...l.scripts);
    problems.push(...l.problems);
    skipped?.push(...l.skipped);
  }
  return scripts;
}

export interface FoundHooks {
  green: Script[];
  red: Script[];
}

/**
 * The check and hook scripts a config's directories hold. Any script that may not run refuses the whole
 * configuration (exit 78), naming it: running the others would make a verdict on checks the operator did not get.
 */
export async function findScripts(
  config: Pick<Config, "assessment" | "hooks">,
  warn: (msg: string) => void = () => undefined,
): Promise<{
  checks: FoundScripts;
  hooks: FoundHooks;
  /** Check scripts not run: disabled by name (assessment.disabled, greenboot.conf's DISABLED_HEALTHCHECKS). */
  skipped: string[];
}> {
  const problems: string[] = [];
  const skipped: string[] = [];
  const a = config.assessment;
  const fromGreenboot = a.greenbootConfig ? await greenbootDisabled(a.greenbootConfig, warn) : [];
  const disabled = new Set([...a.disabled, ...fromGreenboot]);
  const found = {
    skipped,
    checks: {
      critical: await listAll(a.critical.directories, problems, disabled, skipped),
      wanted: await listAll(a.wanted.directories, problems, disabled, skipped),
    },
    hooks: {
      green: await listAll(config.hooks.greenDirectories, problems),
      red: await listAll(config.hooks.redDirectories, problems),
    },
  };
  if (problems.length > 0)
    throw new BootwardenError(
      "config",
      "unsafe",
      `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}; refusing to run it as root`,
      78,
    );
  return found;
}
