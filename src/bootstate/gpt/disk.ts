import {
  closeSync,
  fdatasyncSync,
  constants as fsc,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
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

/*
 * The table is read and written with synchronous calls: a dozen small reads, four writes and two syncs that take
 * well under a millisecond themselves, while each asynchronous one is a round trip through libuv's thread pool. In a
 * busy boot (hundreds of units starting on two cores) those round trips, not the disk, were most of the time
 * between the verdict and the mark (bench: verdict -> marked). The event loop has nothing more urgent meanwhile.
 */
function readAt(fd: number, pos: bigint, len: number, file: string): Buffer {
  const buf = Buffer.alloc(len);
  const bytesRead = readSync(fd, buf, 0, len, Number(pos));
  if (bytesRead !== len)
    throw fail(file, "corrupt", `short read at byte ${pos} (disk too small or truncated)`);
  return buf;
}

function deviceGeometry(fd: number, file: string): { size: bigint; sectorSize?: number } {
  const st = fstatSync(fd, { bigint: true });
  if (st.isFile()) return { size: st.size };
  if (!st.isBlockDevice()) throw fail(file, "invalid", "not a block device or image file");
  // Node has no BLKGETSIZE64; sysfs gives the same numbers for the whole disk.
  const major = ((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & 0xfffff000n);
  const minor = (st.rdev & 0xffn) | ((st.rdev >> 12n) & 0xffffff00n);
  const sys = sysPath(`/sys/dev/block/${major}:${minor}`);
  const sectors = BigInt(readFileSync(`${sys}/size`, "utf8").trim());
  let lbs = 512;
  try {
    lbs = Number(readFileSync(`${sys}/queue/logical_block_size`, "utf8").trim());
  } catch {
    // no queue directory (a partition's or an old kernel's): 512, as the kernel counts sectors
  }
  return { size: sectors * 512n, sectorSize: lbs };
}

function readCopy(fd: number, lba: bigint, ss: number, size: bigint, file: string) {
  if (lba < 1n || (lba + 1n) * BigInt(ss) > size) return `header LBA ${lba} lies beyond the end of the disk`;
  const sector = readAt(fd, lba * BigInt(ss), ss, file);
  const header = parseHeader(sector);
  if (typeof header === "string") return header;
  if (header.myLba !== lba) return `header at LBA ${lba} says it is at LBA ${header.myLba}`;
  const len = header.numEntries * header.entrySize;
  if (header.entriesLba * BigInt(ss) + BigInt(len) > size)
    return "entry array lies beyond the end of the disk";
  const array = readAt(fd, header.entriesLba * BigInt(ss), len, file);
  if (!entriesValid(header, array)) return "bad partition entry array CRC";
  return { header, sector, array };
}

/** An image has no logical block size to ask: a GPT signature at LBA 1 or in the last block tells, for 512 or 4096. */
function probeSectorSize(fd: number, size: bigint): number {
  const sigAt = (pos: bigint) => {
    if (pos < 0n || pos + 8n > size) return false;
    const b = Buffer.alloc(8);
    return readSync(fd, b, 0, 8, Number(pos)) === 8 && b.toString("latin1") === "EFI PART";
  };
  for (const ss of [512n, 4096n]) if (sigAt(ss)) return Number(ss);
  for (const ss of [512n, 4096n]) if (size % ss === 0n && sigAt(size - ss)) return Number(ss);
  return 512;
}

function load(fd: number, file: string): GptDisk {
  const geo = deviceGeometry(fd, file);
  const sectorSize = geo.sectorSize ?? probeSectorSize(fd, geo.size);
  if (geo.size < BigInt(sectorSize) * 3n) throw fail(file, "corrupt", "too small to hold a GPT");
  const lastLba = geo.size / BigInt(sectorSize) - 1n;
  const primary = readCopy(fd, 1n, sectorSize, geo.size, file);
  let backup = readCopy(
    fd,
    typeof primary === "string" ? lastLba : primary.header.alternateLba,
    sectorSize,
    geo.size,
    file,
  );
  // A primary that points at a wrong backup location: the backup still lives in the last block.
  if (typeof backup === "string" && typeof primary !== "string" && primary.header.alternateLba !== lastLba)
    backup = readCopy(fd, lastLba, sectorSize, geo.size, file);
  const good = typeof primary === "string" ? backup : primary;
  if (typeof good === "string")
    throw fail(file, "corrupt", `no valid GPT: primary: ${primary}; backup: ${backup}`);
  return { path: file, sectorSize, lastLba, primary, backup, entries: parseEntries(good.header, good.array) };
}

/** O_NONBLOCK: a FIFO or a device that never answers must not hang us on open; it is refused by type after. */
function openDisk(file: string, flags: number): number {
  try {
    return openSync(file, flags | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === "ENOENT" ? "not-found" : "io";
    throw fail(file, code, `cannot open${flags & fsc.O_RDWR ? " for writing" : ""}: ${errnoText(err)}`);
  }
}

export async function readGptDisk(file: string): Promise<GptDisk> {
  const fd = openDisk(file, fsc.O_RDONLY);
  try {
    return load(fd, file);
  } finally {
    closeSync(fd);
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
  const fd = openDisk(file, fsc.O_RDWR);
  try {
    const disk = load(fd, file);
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
    const writeAll = (buf: Buffer, pos: bigint) => {
      let bytesWritten: number;
      try {
        bytesWritten = writeSync(fd, buf, 0, buf.length, Number(pos));
      } catch (e) {
        throw fail(file, "io", `write at byte ${pos} failed: ${errnoText(e)}`);
      }
      if (bytesWritten !== buf.length) throw fail(file, "io", `short write at byte ${pos}`);
    };
    for (const [name, copy] of [
      ["backup", backup],
      ["primary", primary],
    ] as const) {
      writeAll(array, copy.entriesLba * ss);
      writeAll(restampHeader(copy.sector, intact.header, array), copy.lba * ss);
      // fdatasync: the blocks and what finds them (a sparse image's new extents too), not the mtime's journal commit.
      try {
        fdatasyncSync(fd);
      } catch (e) {
        throw fail(file, "io", `syncing the ${name} table failed: ${errnoText(e)}`);
      }
    }
    return { changed: changes.size > 0, ...(repaired ? { repaired } : {}) };
  } finally {
    closeSync(fd);
  }
}
