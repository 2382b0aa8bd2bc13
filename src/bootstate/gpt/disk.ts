import { constants as fsc } from "node:fs";
import { type FileHandle, open, readFile } from "node:fs/promises";
import { BootwardenError, errnoText } from "../../base/errors.js";
import { sysPath } from "../../base/paths.js";
import {
  entriesValid,
  type GptEntry,
  type GptHeader,
  layoutProblem,
  parseEntries,
  parseHeader,
  relocateHeader,
  restampHeader,
  withAttributes,
} from "./table.js";

/** One copy of the table (primary at LBA 1 or backup at the last LBA), as read from the disk. */
interface TableCopy {
  header: GptHeader;
  sector: Buffer;
  array: Buffer;
}

export interface GptDisk {
  path: string;
  sectorSize: number;
  lastLba: bigint;
  primary: TableCopy | string; // string = why it is not usable
  backup: TableCopy | string;
  /** From the primary when it is valid, else from the backup. */
  entries: GptEntry[];
}

const fail = (file: string, code: "corrupt" | "io" | "not-found" | "invalid", msg: string) =>
  new BootwardenError("gpt", code, `${file}: ${msg}`);

async function readAt(fh: FileHandle, pos: bigint, len: number, file: string): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, Number(pos));
  if (bytesRead !== len)
    throw fail(file, "corrupt", `short read at byte ${pos} (disk too small or truncated)`);
  return buf;
}

async function deviceGeometry(fh: FileHandle, file: string): Promise<{ size: bigint; sectorSize?: number }> {
  const st = await fh.stat({ bigint: true });
  if (st.isFile()) return { size: st.size };
  if (!st.isBlockDevice()) throw fail(file, "invalid", "not a block device or image file");
  // Node has no BLKGETSIZE64; sysfs gives the same numbers for the whole disk.
  const major = ((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & 0xfffff000n);
  const minor = (st.rdev & 0xffn) | ((st.rdev >> 12n) & 0xffffff00n);
  const sys = sysPath(`/sys/dev/block/${major}:${minor}`);
  const sectors = BigInt((await readFile(`${sys}/size`, "utf8")).trim());
  const lbs = Number((await readFile(`${sys}/queue/logical_block_size`, "utf8").catch(() => "512")).trim());
  return { size: sectors * 512n, sectorSize: lbs };
}

async function readCopy(fh: FileHandle, lba: bigint, ss: number, size: bigint, file: string) {
  if (lba < 1n || (lba + 1n) * BigInt(ss) > size) return `header LBA ${lba} lies beyond the end of the disk`;
  const sector = await readAt(fh, lba * BigInt(ss), ss, file);
  const header = parseHeader(sector);
  if (typeof header === "string") return header;
  if (header.myLba !== lba) return `header at LBA ${lba} says it is at LBA ${header.myLba}`;
  const len = header.numEntries * header.entrySize;
  if (header.entriesLba * BigInt(ss) + BigInt(len) > size)
    return "entry array lies beyond the end of the disk";
  const array = await readAt(fh, header.entriesLba * BigInt(ss), len, file);
  if (!entriesValid(header, array)) return "bad partition entry array CRC";
  return { header, sector, array };
}

/** An image has no logical block size to ask: a GPT signature at LBA 1 or in the last block tells, for 512 or 4096. */
async function probeSectorSize(fh: FileHandle, size: bigint): Promise<number> {
  const sigAt = async (pos: bigint) => {
    if (pos < 0n || pos + 8n > size) return false;
    const b = Buffer.alloc(8);
    const { bytesRead } = await fh.read(b, 0, 8, Number(pos));
    return bytesRead === 8 && b.toString("latin1") === "EFI PART";
  };
  for (const ss of [512n, 4096n]) if (await sigAt(ss)) return Number(ss);
  for (const ss of [512n, 4096n]) if (size % ss === 0n && (await sigAt(size - ss))) return Number(ss);
  return 512;
}

async function load(fh: FileHandle, file: string): Promise<GptDisk> {
  const geo = await deviceGeometry(fh, file);
  const sectorSize = geo.sectorSize ?? (await probeSectorSize(fh, geo.size));
  if (geo.size < BigInt(sectorSize) * 3n) throw fail(file, "corrupt", "too small to hold a GPT");
  const lastLba = geo.size / BigInt(sectorSize) - 1n;
  const primary = await readCopy(fh, 1n, sectorSize, geo.size, file);
  let backup = await readCopy(
    fh,
    typeof primary === "string" ? lastLba : primary.header.alternateLba,
    sectorSize,
    geo.size,
    file,
  );
  // A primary that points at a wrong backup location: the backup still lives in the last block.
  if (typeof backup === "string" && typeof primary !== "string" && primary.header.alternateLba !== lastLba)
    backup = await readCopy(fh, lastLba, sectorSize, geo.size, file);
  const good = typeof primary === "string" ? backup : primary;
  if (typeof good === "string")
    throw fail(file, "corrupt", `no valid GPT: primary: ${primary}; backup: ${backup}`);
  return { path: file, sectorSize, lastLba, primary, backup, entries: parseEntries(good.header, good.array) };
}

/** O_NONBLOCK: a FIFO or a device that never answers must not hang us on open; it is refused by type after. */
async function openDisk(file: string, flags: number): Promise<FileHandle> {
  try {
    return await open(file, flags | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === "ENOENT" ? "not-found" : "io";
    throw fail(file, code, `cannot open${flags & fsc.O_RDWR ? " for writing" : ""}: ${errnoText(err)}`);
  }
}

export async function readGptDisk(file: string): Promise<GptDisk> {
  const fh = await openDisk(file, fsc.O_RDONLY);
  try {
    return await load(fh, file);
  } finally {
    await fh.close();
  }
}

/** Which copy is damaged, in words for `status`; undefined when both are intact. */
export function damage(disk: GptDisk): string | undefined {
  if (typeof disk.primary === "string")
    return `primary GPT is damaged (${disk.primary}); the backup is intact and the next write repairs it`;
  if (typeof disk.backup === "string")
    return `backup GPT is damaged (${disk.backup}); the primary is intact and the next write repairs it`;
  return undefined;
}

/** Two valid copies with different entries: a write cut short between the copies; the primary is the truth. */
function copiesDiffer(disk: GptDisk): string | undefined {
  const { primary: p, backup: b } = disk;
  if (typeof p === "string" || typeof b === "string" || p.array.equals(b.array)) return undefined;
  return "backup GPT differs from the primary (a write was cut short); the primary is kept";
}

export interface WriteOutcome {
  /** Set when one damaged copy was rebuilt from the intact one. */
  repaired?: string;
}

/**
 * Rewrites the attribute fields of some entries in both copies of the table, computed by `plan` from the table as
 * read under the same descriptor (the caller holds the lock, so nothing changes between read and write). One
 * damaged copy is rebuilt from the intact one, as cgpt and GRUB do; a table with no intact copy, or with
 * overlapping partitions, is never written. The backup goes first and is synced before the primary is touched (as
 * Flatcar's gptprio does), so a power cut leaves at least one consistent copy.
 */
export async function updateAttributes(
  file: string,
  plan: (disk: GptDisk) => ReadonlyMap<number, bigint>,
): Promise<WriteOutcome & { changed: boolean }> {
  const fh = await openDisk(file, fsc.O_RDWR);
  try {
    const disk = await load(fh, file);
    const changes = plan(disk);
    const repaired = damage(disk) ?? copiesDiffer(disk);
    if (changes.size === 0 && !repaired) return { changed: false };
    const intact = (typeof disk.primary === "string" ? disk.backup : disk.primary) as TableCopy;
    const layout = layoutProblem(intact.header, disk.entries);
    if (layout) throw fail(file, "corrupt", `refusing to write: ${layout}`);
    let array = intact.array;
    for (const [index, attrs] of changes) {
      if (index < 1 || index > intact.header.numEntries)
        throw fail(file, "invalid", `no partition entry ${index}`);
      array = withAttributes(intact.header, array, index, attrs);
    }
    const ss = BigInt(disk.sectorSize);
    const arraySectors = (BigInt(array.length) + ss - 1n) / ss;
    const primary =
      typeof disk.primary === "string"
        ? { sector: relocateHeader(intact.sector, 1n, intact.header.myLba, 2n), lba: 1n, entriesLba: 2n }
        : { sector: disk.primary.sector, lba: 1n, entriesLba: disk.primary.header.entriesLba };
    const backupLba = typeof disk.backup === "string" ? disk.lastLba : disk.backup.header.myLba;
    const backup =
      typeof disk.backup === "string"
        ? {
            sector: relocateHeader(intact.sector, backupLba, 1n, backupLba - arraySectors),
            lba: backupLba,
            entriesLba: backupLba - arraySectors,
          }
        : { sector: disk.backup.sector, lba: backupLba, entriesLba: disk.backup.header.entriesLba };
    const writeAll = async (buf: Buffer, pos: bigint) => {
      const { bytesWritten } = await fh.write(buf, 0, buf.length, Number(pos)).catch((e: unknown) => {
        throw fail(file, "io", `write at byte ${pos} failed: ${errnoText(e)}`);
      });
      if (bytesWritten !== buf.length) throw fail(file, "io", `short write at byte ${pos}`);
    };
    for (const [name, copy] of [
      ["backup", backup],
      ["primary", primary],
    ] as const) {
      await writeAll(array, copy.entriesLba * ss);
      await writeAll(restampHeader(copy.sector, intact.header, array), copy.lba * ss);
      await fh.sync().catch((e: unknown) => {
        throw fail(file, "io", `syncing the ${name} table failed: ${errnoText(e)}`);
      });
    }
    return { changed: changes.size > 0, ...(repaired ? { repaired } : {}) };
  } finally {
    await fh.close();
  }
}
