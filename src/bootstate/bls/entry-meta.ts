import { constants as fsc } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { parseOsRelease } from "../../base/os-release.js";
import { type Entry, entryPath } from "./esp.js";
import type { RankedEntry } from "./order.js";

const MAX_ENTRY = 64 << 10;
const MAX_OSREL = 64 << 10;

/**
 * What systemd-boot 252 reads of an entry to order its menu, or null when the loader leaves it out of the menu: a
 * Type #1 entry with neither `linux` nor `efi`, a UKI without an `.osrel` section naming an OS and a version. A file
 * that cannot be read throws: the menu, and so the next boot, is then not known.
 */
export async function rankedEntry(e: Entry): Promise<RankedEntry | null> {
  const base = {
    id: e.file.toLowerCase(),
    ...(e.name.left === undefined ? {} : { left: e.name.left, done: e.name.done ?? 0 }),
  };
  const fh = await open(entryPath(e), fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  try {
    if (!(await fh.stat()).isFile()) throw new Error(`${e.file}: not a regular file`);
    return e.name.suffix === ".conf"
      ? typeOne(base, await readAt(fh, 0, MAX_ENTRY))
      : uki(base, await osrel(fh));
  } finally {
    await fh.close();
  }
}

function typeOne(base: RankedEntry, text: string): RankedEntry | null {
  const keys = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*(\S+)\s+(.*?)\s*$/.exec(line);
    if (m && !m[1]!.startsWith("#")) keys.set(m[1]!, m[2]!);
  }
  if (!keys.has("linux") && !keys.has("efi")) return null;
  const opt = (field: "sortKey" | "machineId" | "version", key: string) =>
    keys.get(key) ? { [field]: keys.get(key) } : {};
  return {
    ...base,
    ...opt("sortKey", "sort-key"),
    ...opt("machineId", "machine-id"),
    ...opt("version", "version"),
  };
}

/** A UKI's sort key is its OS's IMAGE_ID or ID, its version IMAGE_VERSION, VERSION, VERSION_ID or BUILD_ID. */
function uki(base: RankedEntry, text: string | undefined): RankedEntry | null {
  if (text === undefined) return null;
  const v = parseOsRelease(text);
  const name = v.get("PRETTY_NAME") || v.get("IMAGE_ID") || v.get("NAME") || v.get("ID");
  const sortKey = v.get("IMAGE_ID") || v.get("ID");
  const version = v.get("IMAGE_VERSION") || v.get("VERSION") || v.get("VERSION_ID") || v.get("BUILD_ID");
  if (!name || !version) return null;
  return { ...base, version, ...(sortKey ? { sortKey } : {}) };
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<string> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead).toString("utf8");
}

/** The `.osrel` section of a PE image, found through its section table; undefined when there is none. */
async function osrel(fh: FileHandle): Promise<string | undefined> {
  const head = Buffer.alloc(4096);
  const { bytesRead } = await fh.read(head, 0, head.length, 0);
  if (bytesRead < 0x40 || head.toString("latin1", 0, 2) !== "MZ") return undefined;
  const pe = head.readUInt32LE(0x3c);
  if (pe + 24 > bytesRead || head.toString("latin1", pe, pe + 4) !== "PE\0\0") return undefined;
  const sections = head.readUInt16LE(pe + 6);
  const table = pe + 24 + head.readUInt16LE(pe + 20);
  for (let i = 0; i < sections && table + 40 * (i + 1) <= bytesRead; i++) {
    const s = table + 40 * i;
    if (head.toString("latin1", s, s + 8).replace(/\0+$/, "") !== ".osrel") continue;
    const size = Math.min(head.readUInt32LE(s + 8) || Infinity, head.readUInt32LE(s + 16), MAX_OSREL);
    return (await readAt(fh, head.readUInt32LE(s + 20), size)).replace(/\0+$/, "");
  }
  return undefined;
}
