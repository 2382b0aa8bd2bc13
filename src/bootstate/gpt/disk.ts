import { constants as fsc } from "node:fs";
import { type FileHandle, open, readFile } from "node:fs/promises";
import { BootwardenError } from "../../errors.js";
import { sysPath } from "../../paths.js";
import {
  entriesValid,
  type GptEntry,
  type GptHeader,
  parseEntries,
  parseHeader,
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
  primary: TableCopy | string; // string = why it is not usable
  backup: TableCopy | string;
  /** From the primary when it is valid, else from the backup. */
  entries: GptEntry[];
}

const fail = (file: string, msg: string) => new BootwardenError(`gpt: ${file}: ${msg}`);

async function readAt(fh: FileHandle, pos: bigint, len: number, file: string): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, Number(pos));
  if (bytesRead !== len) throw fail(file, `short read at byte ${pos} (disk too small or truncated)`);
  return buf;
}

async function deviceGeometry(fh: FileHandle, file: string): Promise<{ size: bigint; sectorSize?: number }> {
  const st = await fh.stat({ bigint: true });
  if (st.isFile()) return { size: st.size };
  if (!st.isBlockDevice()) throw fail(file, "not a block device or image file");
  // Node has no BLKGETSIZE64; sysfs gives the same numbers for the whole disk.
  const major = ((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & 0xfffff000n);
  const minor = (st.rdev & 0xffn) | ((st.rdev >> 12n) & 0xffffff00n);
  const sys = sysPath(`/sys/dev/block/${major}:${minor}`);
  const sectors = BigInt((await readFile(`${sys}/size`, "utf8")).trim());
  const lbs = Number((await readFile(`${sys}/queue/logical_block_size`, "utf8").catch(() => "512")).trim());
  return { size: sectors * 512n, sectorSize: lbs };
}

async function readCopy(
  fh: FileHandle,
  lba: bigint,
  sectorSize: number,
  size: bigint,
  file: string,
): Promise<TableCopy | string> {
  if ((lba + 1n) * BigInt(sectorSize) > size) return `header LBA ${lba} lies beyond the end of the disk`;
  const sector = await readAt(fh, lba * BigInt(sectorSize), sectorSize, file);
  const header = parseHeader(sector);
  if (typeof header === "string") return header;
  if (header.myLba !== lba) return `header at LBA ${lba} says it is at LBA ${header.myLba}`;
  const len = header.numEntries * header.entrySize;
  if (header.entriesLba * BigInt(sectorSize) + BigInt(len) > size)
    return "entry array lies beyond the end of the disk";
  const array = await readAt(fh, header.entriesLba * BigInt(sectorSize), len, file);
  if (!entriesValid(header, array)) return "bad partition entry array CRC";
  return { header, sector, array };
}

async function detectSectorSize(fh: FileHandle): Promise<number> {
  for (const ss of [512, 4096]) {
    const sig = Buffer.alloc(8);
    const { bytesRead } = await fh.read(sig, 0, 8, ss);
    if (bytesRead === 8 && sig.toString("latin1") === "EFI PART") return ss;
  }
  return 512;
}

async function load(fh: FileHandle, file: string): Promise<GptDisk> {
  const geo = await deviceGeometry(fh, file);
  const sectorSize = geo.sectorSize ?? (await detectSectorSize(fh));
  if (geo.size < BigInt(sectorSize) * 3n) throw fail(file, "too small to hold a GPT");
  const lastLba = geo.size / BigInt(sectorSize) - 1n;
  const primary = await readCopy(fh, 1n, sectorSize, geo.size, file);
  const backupLba = typeof primary === "string" ? lastLba : primary.header.alternateLba;
  const backup = await readCopy(fh, backupLba, sectorSize, geo.size, file);
  const good = typeof primary === "string" ? backup : primary;
  if (typeof good === "string") {
    throw fail(file, `no valid GPT: primary: ${primary}; backup: ${backup}`);
  }
  return { path: file, sectorSize, primary, backup, entries: parseEntries(good.header, good.array) };
}

export async function readGptDisk(file: string): Promise<GptDisk> {
  let fh: FileHandle;
  try {
    fh = await open(file, fsc.O_RDONLY);
  } catch (err) {
    throw fail(file, `cannot open: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return await load(fh, file);
  } finally {
    await fh.close();
  }
}

/**
 * Rewrites the attribute fields of some entries in both copies of the table. The disk is re-read and validated
 * under the same descriptor first; a table that is not fully valid is never written. The backup goes first and is
 * synced before the primary is touched (as Flatcar's gptprio does), so a power cut leaves one consistent copy.
 */
export async function writeAttributes(file: string, changes: ReadonlyMap<number, bigint>): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(file, fsc.O_RDWR);
  } catch (err) {
    throw fail(file, `cannot open for writing: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const disk = await load(fh, file);
    const { primary, backup } = disk;
    if (typeof primary === "string")
      throw fail(file, `refusing to write: primary table is invalid (${primary})`);
    if (typeof backup === "string")
      throw fail(file, `refusing to write: backup table is invalid (${backup})`);
    let array = primary.array;
    for (const [index, attrs] of changes) {
      if (index < 1 || index > primary.header.numEntries) throw fail(file, `no partition entry ${index}`);
      array = withAttributes(primary.header, array, index, attrs);
    }
    const ss = BigInt(disk.sectorSize);
    const writeAll = async (buf: Buffer, pos: bigint) => {
      const { bytesWritten } = await fh.write(buf, 0, buf.length, Number(pos));
      if (bytesWritten !== buf.length) throw fail(file, `short write at byte ${pos}`);
    };
    for (const copy of [backup, primary]) {
      await writeAll(array, copy.header.entriesLba * ss);
      await writeAll(restampHeader(copy.sector, copy.header, array), copy.header.myLba * ss);
      await fh.sync();
    }
  } finally {
    await fh.close();
  }
}
