import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { BootwardenError, errnoText } from "../base/errors.js";
import { sysPath } from "../base/paths.js";
import { trustProblem } from "../base/trust.js";
import type { Config } from "../config/schema.js";
import type { FoundScripts } from "../core/checks.js";

/**
 * The scripts in check and hook directories, and the rule that lets them run as root: the file and every directory
 * above it owned by root and writable by nobody else. A script another user can change is a root shell for them.
 */

async function ownerProblem(p: string, what: string): Promise<string | undefined> {
  const problem = trustProblem(await stat(sysPath(p)));
  return problem && `${what} ${p} is ${problem}`;
}

/** Why `file` (a resolved path) must not run, or undefined. */
async function scriptProblem(file: string): Promise<string | undefined> {
  const own = await ownerProblem(file, "script");
  if (own) return own;
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    const p = await ownerProblem(d, "directory");
    if (p) return p;
    if (d === "/") return undefined;
  }
}

const why = (err: unknown) => {
  const t = errnoText(err);
  return t === "ENOENT" ? "does not exist" : t === "ENOTDIR" ? "is not a directory" : t;
};

/** A path resolved under the test root prefix, back to the path as the system sees it. */
const unprefix = (p: string) => path.resolve("/", path.relative(sysPath("/"), p));

export interface Listing {
  scripts: string[];
  problems: string[];
}

/**
 * Every executable regular file, and every *.sh (greenboot runs those with bash whatever their mode), in `dir`, in
 * lexical order. A symlink is judged by what it points to; other entries (READMEs, subdirectories) are skipped.
 */
export async function listScripts(dir: string): Promise<Listing> {
  const out: Listing = { scripts: [], problems: [] };
  let names: string[];
  try {
    const dirProblem = await scriptProblem(path.join(dir, "."));
    if (dirProblem) return { scripts: [], problems: [`${dir}: ${dirProblem}`] };
    names = (await readdir(sysPath(dir))).sort();
  } catch (err) {
    return { scripts: [], problems: [`${dir}: ${why(err)}`] };
  }
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const l = await lstat(sysPath(file));
      const real = l.isSymbolicLink() ? unprefix(await realpath(sysPath(file))) : file;
      const st = await stat(sysPath(real));
      if (!st.isFile() || !(name.endsWith(".sh") || st.mode & 0o111)) continue;
      const p = await scriptProblem(real);
      if (p) out.problems.push(`${file}: ${p}`);
      else out.scripts.push(file);
    } catch (err) {
      out.problems.push(`${file}: ${why(err)}`);
    }
  }
  return out;
}

async function listAll(dirs: readonly string[], problems: string[]): Promise<string[]> {
  const scripts: string[] = [];
  for (const d of dirs) {
    const l = await listScripts(d);
    scripts.push(...l.scripts);
    problems.push(...l.problems);
  }
  return scripts;
}

export interface FoundHooks {
  green: string[];
  red: string[];
}

/**
 * The check and hook scripts a config's directories hold. Any script that may not run refuses the whole
 * configuration (exit 78), naming it: running the others would make a verdict on checks the operator did not get.
 */
export async function findScripts(config: Pick<Config, "assessment" | "hooks">): Promise<{
  checks: FoundScripts;
  hooks: FoundHooks;
}> {
  const problems: string[] = [];
  const a = config.assessment;
  const found = {
    checks: {
      critical: await listAll(a.critical.directories, problems),
      wanted: await listAll(a.wanted.directories, problems),
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
