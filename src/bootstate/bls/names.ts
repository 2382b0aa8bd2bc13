import type { BlessState } from "../types.js";

/**
 * Boot Loader Specification boot counting lives in entry file names: `<stem>[+<LEFT>[-<DONE>]]<suffix>`, suffix
 * `.conf` (Type #1) or `.efi` (UKI). Only the last `+LEFT[-DONE]` right before the suffix is the counter:
 * `linux+6.1+2-1.conf` is stem `linux+6.1`, 2 tries left, 1 done. Pure: names in, names out.
 */
export interface EntryName {
  stem: string;
  suffix: ".conf" | ".efi";
  /** Tries left; undefined when the entry is not counted. */
  left?: number;
  done?: number;
  /** The digits as written, so a rename keeps their width. */
  doneText?: string;
}

const NAME = /^(.+?)(?:\+(\d+)(?:-(\d+))?)?(\.conf|\.efi)$/i;
/** systemd-boot (boot.c) takes a counter only when each number fits an int; larger digits are part of the name. */
const INT_MAX = 2 ** 31 - 1;

/**
 * An entry file's name, or undefined when it is not an entry: no .conf/.efi suffix, or a control character in it
 * (a newline in a name would split a line of `status` and of the journal; vfat cannot hold one, an XBOOTLDR could).
 */
export function parseEntryName(file: string): EntryName | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
  if (/[\x00-\x1f\x7f]/.test(file)) return undefined;
  const m = NAME.exec(file);
  if (!m || m[1]!.length === 0) return undefined;
  const suffix = m[4]!.toLowerCase() as EntryName["suffix"];
  if (m[2] !== undefined && (Number(m[2]) > INT_MAX || Number(m[3] ?? 0) > INT_MAX))
    return { stem: file.slice(0, -suffix.length), suffix };
  if (m[2] === undefined) return { stem: m[1]!, suffix };
  return {
    stem: m[1]!,
    suffix,
    left: Number(m[2]),
    done: m[3] === undefined ? 0 : Number(m[3]),
    ...(m[3] === undefined ? {} : { doneText: m[3] }),
  };
}

/** The entry's id as systemd-boot shows it once blessed: the name without the counter. */
export const entryId = (n: EntryName): string => `${n.stem}${n.suffix}`;

export function formatEntryName(n: EntryName): string {
  if (n.left === undefined) return entryId(n);
  const done = n.doneText ?? String(n.done ?? 0);
  return `${n.stem}+${n.left}${n.done || n.doneText ? `-${done}` : ""}${n.suffix}`;
}

/**
 * Whether blessing leaves a name the loader still counts: `x+1+1-1.conf` blessed is `x+1.conf`, which systemd-boot
 * reads as 1 try left, and the next boot counts it down to bad. `arm` refuses such names.
 */
export const countedAfterBlessing = (n: EntryName): boolean => parseEntryName(entryId(n))?.left !== undefined;

/** Blessed: the counter is gone. */
export const blessed = (n: EntryName): EntryName => ({ stem: n.stem, suffix: n.suffix });

/** Bad: no tries left, the tries done kept (`+0-DONE`, or `+0` when none were counted). */
export const markedBad = (n: EntryName): EntryName => ({
  stem: n.stem,
  suffix: n.suffix,
  left: 0,
  done: n.done ?? 0,
  ...(n.doneText ? { doneText: n.doneText } : {}),
});

/** Armed as kernel-install does with /etc/kernel/tries: `+N`, nothing done yet. */
export const armed = (n: EntryName, tries: number): EntryName => ({
  stem: n.stem,
  suffix: n.suffix,
  left: tries,
  done: 0,
});

export function entryState(n: EntryName): BlessState {
  if (n.left === undefined) return "good";
  return n.left === 0 ? "bad" : "indeterminate";
}

/** A `default` glob in loader.conf (fnmatch-style: *, ?, [...]) matches this id. */
export function globMatches(glob: string, id: string): boolean {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`${re}$`, "i").test(id);
}

export const isGlob = (s: string) => /[*?[]/.test(s);
