import { constants as fsc } from "node:fs";
import { open, readdir, realpath, rename, stat } from "node:fs/promises";
import path from "node:path";
import { writeAtomic } from "../../base/atomic-write.js";
import { BootwardenError, errnoText } from "../../base/errors.js";
import { sysPath } from "../../base/paths.js";
import { readRegular } from "../../base/read-regular.js";
import { type EntryName, parseEntryName } from "./names.js";

/** Where systemd looks for the ESP and XBOOTLDR when none is configured: entries may be on either. */
export const DEFAULT_ROOTS = ["/efi", "/boot", "/boot/efi"];
const DIRS = [
  ["loader/entries", ".conf"],
  ["EFI/Linux", ".efi"],
] as const;

export interface Entry {
  /** The ESP or XBOOTLDR mount point, as configured or found (not root-prefixed). */
  root: string;
  /** loader/entries or EFI/Linux. */
  dir: string;
  file: string;
  name: EntryName;
}

export const entryPath = (e: Entry) => sysPath(path.join(e.root, e.dir, e.file));
export const entryDir = (e: Entry) => sysPath(path.join(e.root, e.dir));
/** As the loader writes it in LoaderBootCountPath: a backslash path from the partition's root. */
export const loaderPath = (e: Entry) => `\\${path.join(e.dir, e.file).replace(/\//g, "\\")}`;

/** The roots that exist, each once (/boot and /boot/efi may be one mount seen twice through a link). */
export async function findRoots(configured: string | undefined): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const r of configured ? [configured] : DEFAULT_ROOTS) {
    const real = await realpath(sysPath(r)).catch(() => undefined);
    if (!real || seen.has(real)) continue;
    const has = await Promise.all(
      DIRS.map(([d]) =>
        stat(path.join(real, d)).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (!has.some(Boolean)) continue;
    seen.add(real);
    out.push(r);
  }
  if (out.length === 0)
    throw new BootwardenError(
      "bls",
      "not-found",
      `no loader/entries or EFI/Linux under ${configured ?? DEFAULT_ROOTS.join(", ")}; set bootState.esp`,
    );
  return out;
}

export async function listEntries(roots: readonly string[]): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const root of roots)
    for (const [dir, suffix] of DIRS) {
      const files = await readdir(sysPath(path.join(root, dir))).catch(() => [] as string[]);
      for (const file of files.sort()) {
        const name = parseEntryName(file);
        if (name && name.suffix === suffix) out.push({ root, dir, file, name });
      }
    }
  return out;
}

/** loader.conf's `default` on the first root that has one. */
export async function loaderDefault(roots: readonly string[]): Promise<string | undefined> {
  for (const root of roots) {
    const text = await readRegular(sysPath(path.join(root, "loader/loader.conf")), 1 << 20).then(
      (b) => b.toString("utf8"),
      () => "",
    );
    const m = /^\s*default\s+(\S+)\s*$/m.exec(text);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * A blessing renames the entry; a loader.conf whose `default` named its counted file exactly (Kairos writes
 * `default active+3.conf` for an upgrade) would then name nothing, and the sort order would pick another entry. The
 * default follows the entry, as Kairos' own drop-in for systemd-bless-boot does with sed: only that line, only when it
 * named this entry with a counter; the rest of the file is kept. Returns the old default when it was rewritten.
 */
export async function followDefault(
  roots: readonly string[],
  e: Entry,
  to: string,
): Promise<string | undefined> {
  for (const root of roots) {
    const file = sysPath(path.join(root, "loader/loader.conf"));
    const text = await readRegular(file, 1 << 20).then(
      (b) => b.toString("utf8"),
      () => undefined,
    );
    const m = text === undefined ? null : /^(\s*default\s+)(\S+)(\s*)$/m.exec(text);
    if (!text || !m) continue;
    const named = parseEntryName(m[2]!);
    const same = named?.left !== undefined && named.stem === e.name.stem && named.suffix === e.name.suffix;
    if (!same) return undefined;
    await writeAtomic(file, text.replace(m[0], `${m[1]}${to}${m[3]}`), { durable: true });
    return m[2];
  }
  return undefined;
}

/**
 * The one write a BLS backend makes: a rename in the entry's directory, then an fsync of the directory so the new
 * name survives a power cut (on vfat too). rename() replaces a twin of the new name atomically.
 */
export async function renameEntry(e: Entry, to: string): Promise<void> {
  const dir = entryDir(e);
  try {
    await rename(path.join(dir, e.file), path.join(dir, to));
    const fh = await open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    await fh.sync().finally(() => fh.close());
  } catch (err) {
    throw new BootwardenError(
      "bls",
      "io",
      `${path.join(e.root, e.dir)}: cannot rename ${e.file} to ${to}: ${errnoText(err)}`,
    );
  }
}
