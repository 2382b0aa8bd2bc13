import { type EfiRead, readLoaderVar } from "./efivars.js";
import { rankedEntry } from "./entry-meta.js";
import { type Entry, loaderDefault } from "./esp.js";
import { type ChoiceRule, chooseEntry, type RankedEntry } from "./order.js";

export interface NextEntry {
  entry: Entry;
  rule: ChoiceRule;
}

/**
 * The entry systemd-boot starts at the next boot, by its own rules on the entries and variables as they are now:
 * null when there is none to start, undefined when that is not known (an entry or a variable that cannot be read,
 * e.g. by a user who may not read the ESP).
 */
export async function nextEntry(
  entries: readonly Entry[],
  roots: readonly string[],
  efivars: string,
  /** loader.conf's `default` when the caller has read it already (`arm`). */
  read?: { confDefault: string | undefined },
): Promise<NextEntry | null | undefined> {
  try {
    const ranked = await Promise.all(entries.map(rankedEntry));
    const menu = entries.flatMap((e, i) => (ranked[i] ? [{ e, r: ranked[i] as RankedEntry }] : []));
    const vars = await Promise.all(
      ["LoaderEntryOneShot", "LoaderEntryDefault", "LoaderEntryLastBooted"].map((n) =>
        readLoaderVar(efivars, n),
      ),
    );
    if (vars.some((v) => "problem" in v)) return undefined;
    const value = (v: EfiRead | undefined) => (v && "value" in v ? v.value : undefined);
    const confDefault = read ? read.confDefault : await loaderDefault(roots);
    const pick = chooseEntry(
      menu.map((m) => m.r),
      {
        oneShot: value(vars[0]),
        efiDefault: value(vars[1]),
        lastBooted: value(vars[2]),
        ...(confDefault ? { confDefault } : {}),
      },
    );
    return pick && { entry: menu[pick.index]!.e, rule: pick.rule };
  } catch {
    return undefined;
  }
}
