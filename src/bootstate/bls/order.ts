import { globMatches } from "./names.js";

/**
 * systemd-boot 252's menu order and its choice of the entry to start, written from its boot.c and
 * `strverscmp_improved`, so `status` and `arm` can say which entry the loader starts next. Pure: what the loader
 * reads of each entry in, an index out.
 */
export interface RankedEntry {
  /** The loader's id for the entry: its file name, lower-cased, counter included (252 keeps it). */
  id: string;
  sortKey?: string;
  machineId?: string;
  version?: string;
  /** Tries left and done; undefined when the entry is not counted. */
  left?: number;
  done?: number;
}

const VERSION_CHAR = /[0-9A-Za-z~\-^.]/;
const DIGIT = /[0-9]/;
const ALPHA = /[A-Za-z]/;
const cmp = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);

/** One character of a version or the end (""), as the C code reads past a segment. */
const at = (s: string, i: number) => s[i] ?? "";

/**
 * systemd's version order (`strverscmp_improved`): `~` sorts before anything, even the end; then a longer string is
 * newer; `-`, `^` and `.` separate segments, in that order of age; digits compare by value, letters as text, and a
 * number is newer than letters. Characters outside [0-9A-Za-z~-^.] are skipped. An absent version is oldest.
 */
export function compareVersions(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return cmp(a === undefined ? 0 : 1, b === undefined ? 0 : 1);
  let i = 0;
  let j = 0;
  for (;;) {
    while (at(a, i) && !VERSION_CHAR.test(at(a, i))) i++;
    while (at(b, j) && !VERSION_CHAR.test(at(b, j))) j++;
    // A separator on one side only decides; on both, it is stepped over. `~` comes before the end test.
    const sep = (c: string) => {
      if (at(a, i) !== c && at(b, j) !== c) return 0;
      const r = cmp(at(a, i) !== c ? 1 : 0, at(b, j) !== c ? 1 : 0);
      i++;
      j++;
      return r;
    };
    let r = sep("~");
    if (r !== 0) return r;
    if (!at(a, i) || !at(b, j)) return cmp(at(a, i) ? 1 : 0, at(b, j) ? 1 : 0);
    r = sep("-") || sep("^") || sep(".");
    if (r !== 0) return r;
    const digits = DIGIT.test(at(a, i)) || DIGIT.test(at(b, j));
    const kind = digits ? DIGIT : ALPHA;
    let ii = i;
    let jj = j;
    while (kind.test(at(a, ii))) ii++;
    while (kind.test(at(b, jj))) jj++;
    if (digits) {
      // A number is newer than no number; then by value: leading zeros dropped, the longer one is larger.
      const x = a.slice(i, ii).replace(/^0+/, "");
      const y = b.slice(j, jj).replace(/^0+/, "");
      r = cmp(ii > i ? 1 : 0, jj > j ? 1 : 0) || cmp(x.length, y.length) || cmp(x, y);
    } else {
      const n = Math.min(ii - i, jj - j);
      r = cmp(a.slice(i, i + n), b.slice(j, j + n)) || cmp(ii - i, jj - j);
    }
    if (r !== 0) return r;
    i = ii;
    j = jj;
  }
}

/**
 * The menu order (boot.c's boot_entry_compare): entries with no tries left last; entries with a sort key before
 * those without, by sort key, machine-id, then version, newest first; then by id, newest first; then more tries
 * left, then fewer done.
 */
export function compareEntries(a: RankedEntry, b: RankedEntry): number {
  const r =
    cmp(a.left === 0 ? 1 : 0, b.left === 0 ? 1 : 0) ||
    cmp(a.sortKey === undefined ? 1 : 0, b.sortKey === undefined ? 1 : 0) ||
    (a.sortKey !== undefined && b.sortKey !== undefined
      ? cmp(a.sortKey, b.sortKey) ||
        cmpAbsentFirst(a.machineId, b.machineId) ||
        -compareVersions(a.version, b.version)
      : 0) ||
    -compareVersions(a.id, b.id);
  if (r !== 0 || a.left === undefined || b.left === undefined) return r;
  return -cmp(a.left, b.left) || cmp(a.done ?? 0, b.done ?? 0);
}

/** strcmp on pointers that may be NULL: NULL first. */
const cmpAbsentFirst = (a: string | undefined, b: string | undefined) =>
  a === undefined || b === undefined ? cmp(a === undefined ? 0 : 1, b === undefined ? 0 : 1) : cmp(a, b);

export interface LoaderChoiceInput {
  /** LoaderEntryOneShot, LoaderEntryDefault, LoaderEntryLastBooted (EFI variables), loader.conf's `default`. */
  oneShot?: string;
  efiDefault?: string;
  lastBooted?: string;
  confDefault?: string;
}

export type ChoiceRule = "LoaderEntryOneShot" | "LoaderEntryDefault" | "loader.conf default" | "sort order";

/**
 * The entry the loader starts (boot.c's config_default_entry_select): the one-shot pattern, else LoaderEntryDefault
 * (`@saved`: the last booted), else loader.conf's `default` (the same), else the first in the menu. A pattern that
 * matches nothing passes to the next rule. Returns the index in `menu` and the rule, or null for an empty menu.
 */
export function chooseEntry(
  menu: readonly RankedEntry[],
  v: LoaderChoiceInput,
): { index: number; rule: ChoiceRule } | null {
  const sorted = menu.map((e, index) => ({ e, index })).sort((x, y) => compareEntries(x.e, y.e));
  const find = (pattern: string | undefined) =>
    pattern ? sorted.find((s) => globMatches(pattern.toLowerCase(), s.e.id)) : undefined;
  const saved = (p: string | undefined) => (p === "@saved" ? v.lastBooted : p);
  const rules: [ChoiceRule, string | undefined][] = [
    ["LoaderEntryOneShot", v.oneShot],
    ["LoaderEntryDefault", saved(v.efiDefault)],
    ["loader.conf default", saved(v.confDefault)],
  ];
  for (const [rule, pattern] of rules) {
    const hit = find(pattern);
    if (hit) return { index: hit.index, rule };
  }
  return sorted[0] ? { index: sorted[0].index, rule: "sort order" } : null;
}
