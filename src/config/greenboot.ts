import { errnoText } from "../base/errors.js";
import { sysPath } from "../base/paths.js";
import { readRegular } from "../base/read-regular.js";

/**
 * The script names greenboot's own `DISABLED_HEALTHCHECKS=("a.sh" "b.sh")` (a bash array in greenboot.conf) lists,
 * or why the line could not be read. No such line, or `()`: none. Pure.
 */
export function parseDisabledHealthchecks(text: string): { names: string[] } | { problem: string } {
  // Sourced by bash: the last assignment wins; an array may span lines, as greenboot.conf's own example does.
  const all = [...text.matchAll(/^[ \t]*DISABLED_HEALTHCHECKS=(.*)$/gm)];
  const last = all.at(-1);
  if (!last) return { names: [] };
  let value = last[1]!.trim();
  if (value.startsWith("(") && !value.includes(")")) {
    const rest = text.slice(last.index! + last[0].length);
    const end = rest.indexOf(")");
    if (end < 0) return { problem: "DISABLED_HEALTHCHECKS=( is never closed" };
    value = `${value}${rest.slice(0, end + 1)}`.replace(/\s+/g, " ");
  }
  if (value === "" || /^\(\s*\)$/.test(value)) return { names: [] };
  const m = /^\((.*)\)$/s.exec(value);
  if (!m) return { problem: `DISABLED_HEALTHCHECKS=${value} is not a bash array ("a.sh" "b.sh")` };
  const names = [...m[1]!.matchAll(/"([^"]*)"|'([^']*)'|([^\s"']+)/g)].map((x) => x[1] ?? x[2] ?? x[3]!);
  return { names: names.filter((n) => n.length > 0) };
}

/**
 * greenboot.conf's DISABLED_HEALTHCHECKS, read as greenboot reads it at every start: a missing file disables nothing;
 * a line it cannot read is said through `warn` and disables nothing (greenboot-rs does the same).
 */
export async function greenbootDisabled(file: string, warn: (msg: string) => void): Promise<string[]> {
  let text: string;
  try {
    text = (await readRegular(sysPath(file), 1 << 20)).toString("utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") warn(`${file}: cannot read: ${errnoText(err)}`);
    return [];
  }
  const r = parseDisabledHealthchecks(text);
  if ("problem" in r) {
    warn(`${file}: ${r.problem}; no check is disabled`);
    return [];
  }
  return r.names;
}
