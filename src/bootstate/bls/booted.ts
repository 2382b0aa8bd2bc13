import path from "node:path";
import { BootwardenError } from "../../base/errors.js";
import { readLoaderVar } from "./efivars.js";
import { type Entry, loaderPath } from "./esp.js";
import { blessed, entryId, formatEntryName, markedBad, parseEntryName } from "./names.js";

const err = (code: "ambiguous" | "corrupt", msg: string) => new BootwardenError("bls", code, msg);
const idOf = (e: Entry) => entryId(e.name);
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** This boot as the loader's variables and the entries on disk tell it. */
export interface Booted {
  entry?: Entry;
  /** The boot was counted: the loader renamed this entry and named it in LoaderBootCountPath. */
  counted: boolean;
  /**
   * The loader booted an entry that had no tries left (`+0-D` -> `+0-(D+1)`: a `default` glob, or nothing better):
   * marking it bad changes nothing, so no slot is left to fall back to.
   */
  exhausted?: boolean;
  /** Why a count the loader reported cannot be trusted (kexec, soft-reboot, a renamed entry). */
  problem?: string;
  selected?: string;
}

/**
 * Which entry this boot is, from systemd-boot's variables in `efivars` (shown as `shown`) and the entries on disk:
 * LoaderBootCountPath names the file the loader renamed (or, after our own rename in this boot, what we made of it),
 * LoaderEntrySelected the id before the rename.
 */
export async function bootedEntry(entries: Entry[], efivars: string, shown: string): Promise<Booted> {
  const count = await readLoaderVar(efivars, "LoaderBootCountPath");
  const sel = await readLoaderVar(efivars, "LoaderEntrySelected");
  for (const v of [count, sel])
    if ("problem" in v) throw err("corrupt", `${shown}: ${v.problem}; nothing renamed`);
  const selected = "value" in sel ? sel.value : undefined;
  const byId = (id: string) => {
    const parsed = parseEntryName(id);
    const want = parsed ? entryId(parsed) : id;
    return entries.find((e) => same(idOf(e), want) || same(e.file, id));
  };
  if (!("value" in count)) return { entry: selected ? byId(selected) : undefined, counted: false, selected };
  // The same counted name on the ESP and on XBOOTLDR: the variable cannot say which one the loader renamed.
  const named = entries.filter((e) => same(loaderPath(e), count.value));
  if (named.length > 1)
    throw err(
      "ambiguous",
      `LoaderBootCountPath ${count.value} names both ${named.map((e) => `${e.root}/${e.dir}/${e.file}`).join(" and ")}; remove one, nothing renamed`,
    );
  let entry = named[0];
  const direct = entry !== undefined;
  if (!entry) {
    // Renamed since the loader ran: by us in this boot (blessed, or marked bad), which is still this boot; anything
    // else means the variables are stale (a kexec or soft-reboot since the cold boot) and nothing is touched.
    const dir = count.value.replace(/\\/g, "/").replace(/^\//, "");
    const counted = parseEntryName(dir.slice(dir.lastIndexOf("/") + 1));
    const ours = counted && [formatEntryName(blessed(counted)), formatEntryName(markedBad(counted))];
    entry = ours
      ? entries.find((e) =>
          ours.some((f) =>
            same(loaderPath(e), `\\${path.posix.join(path.posix.dirname(dir), f).replace(/\//g, "\\")}`),
          ),
        )
      : undefined;
    if (!entry)
      return {
        entry: selected ? byId(selected) : undefined,
        counted: false,
        selected,
        problem: `LoaderBootCountPath names ${count.value}, which does not exist (a kexec or soft-reboot since the boot loader ran?): this boot is not counted, nothing is renamed`,
      };
  }
  // LoaderEntrySelected is the id before the loader's rename: it must be this entry's.
  const before = selected ? parseEntryName(selected) : undefined;
  if (selected && (!before || !same(entryId(before), idOf(entry))))
    return {
      entry: byId(selected),
      counted: false,
      selected,
      problem: `LoaderBootCountPath names ${count.value} but LoaderEntrySelected is ${selected}: this boot is not counted, nothing is renamed`,
    };
  return {
    entry,
    counted: entry.name.left !== undefined,
    // The name after the rename cannot tell the last try (+1-1 -> +0-2) from a boot past it (+0-1 -> +0-2); the
    // name the loader selected can.
    exhausted: direct && entry.name.left === 0 && (before ? before.left === 0 : true),
    selected,
  };
}
