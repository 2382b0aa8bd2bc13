import { crc32 } from "node:zlib";

/** Pure GPT header/entry codec (UEFI spec, chapter 5). No I/O here: the disk module feeds it bytes. */

export const GPT_SIGNATURE = "EFI PART";
export const ENTRY_SIZE = 128;
const MIN_HEADER_SIZE = 92;
// A sane upper bound for the entry array: the spec's minimum is 16 KiB, nobody ships more than 1 MiB.
const MAX_ENTRY_ARRAY = 1 << 20;

export interface GptHeader {
  revision: number;
  headerSize: number;
  headerCrc: number;
  myLba: bigint;
  alternateLba: bigint;
  firstUsableLba: bigint;
  lastUsableLba: bigint;
  diskGuid: string;
  entriesLba: bigint;
  numEntries: number;
  entrySize: number;
  entriesCrc: number;
}

export interface GptEntry {
  index: number; // 1-based, as cgpt and sgdisk number partitions
  typeGuid: string;
  uniqueGuid: string;
  firstLba: bigint;
  lastLba: bigint;
  attributes: bigint;
  name: string;
}

/** GUIDs are stored mixed-endian: the first three fields little-endian, the rest as bytes. */
export function decodeGuid(b: Uint8Array): string {
  const h = (i: number) => b[i]!.toString(16).padStart(2, "0");
  const r = (idx: number[]) => idx.map(h).join("");
  return `${r([3, 2, 1, 0])}-${r([5, 4])}-${r([7, 6])}-${r([8, 9])}-${r([10, 11, 12, 13, 14, 15])}`;
}

export function encodeGuid(guid: string): Buffer {
  const hex = guid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a GUID: ${guid}`);
  const raw = Buffer.from(hex, "hex");
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return Buffer.from(order.map((i) => raw[i]!));
}

export type HeaderProblem = string;

/** Parse a header sector; returns the header or the reason it cannot be trusted. */
export function parseHeader(sector: Buffer): GptHeader | HeaderProblem {
  if (sector.length < MIN_HEADER_SIZE) return "short header";
  if (sector.toString("latin1", 0, 8) !== GPT_SIGNATURE) return "bad signature (no GPT)";
  const headerSize = sector.readUInt32LE(12);
  if (headerSize < MIN_HEADER_SIZE || headerSize > sector.length) return `bad header size ${headerSize}`;
  const headerCrc = sector.readUInt32LE(16);
  const copy = Buffer.from(sector.subarray(0, headerSize));
  copy.writeUInt32LE(0, 16);
  if (crc32(copy) !== headerCrc) return "bad header CRC";
  const entrySize = sector.readUInt32LE(84);
  if (entrySize !== ENTRY_SIZE) return `unsupported entry size ${entrySize} (only 128 is supported)`;
  const numEntries = sector.readUInt32LE(80);
  if (numEntries === 0 || numEntries * entrySize > MAX_ENTRY_ARRAY) return `bad entry count ${numEntries}`;
  return {
    revision: sector.readUInt32LE(8),
    headerSize,
    headerCrc,
    myLba: sector.readBigUInt64LE(24),
    alternateLba: sector.readBigUInt64LE(32),
    firstUsableLba: sector.readBigUInt64LE(40),
    lastUsableLba: sector.readBigUInt64LE(48),
    diskGuid: decodeGuid(sector.subarray(56, 72)),
    entriesLba: sector.readBigUInt64LE(72),
    numEntries,
    entrySize,
    entriesCrc: sector.readUInt32LE(88),
  };
}

export function entriesValid(header: GptHeader, array: Buffer): boolean {
  return array.length === header.numEntries * header.entrySize && crc32(array) === header.entriesCrc;
}

const ZERO_GUID = "00000000-0000-0000-0000-000000000000";

/** Used entries only (type GUID not all zero). */
export function parseEntries(header: GptHeader, array: Buffer): GptEntry[] {
  const out: GptEntry[] = [];
  for (let i = 0; i < header.numEntries; i++) {
    const e = array.subarray(i * header.entrySize, (i + 1) * header.entrySize);
    const typeGuid = decodeGuid(e.subarray(0, 16));
    if (typeGuid === ZERO_GUID) continue;
    out.push({
      index: i + 1,
      typeGuid,
      uniqueGuid: decodeGuid(e.subarray(16, 32)),
      firstLba: e.readBigUInt64LE(32),
      lastLba: e.readBigUInt64LE(40),
      attributes: e.readBigUInt64LE(48),
      name: e.toString("utf16le", 56, 128).replace(/\0.*$/s, ""),
    });
  }
  return out;
}

/** Returns a new entry array with one entry's attribute field replaced; every other byte is kept. */
export function withAttributes(header: GptHeader, array: Buffer, index: number, attributes: bigint): Buffer {
  const next = Buffer.from(array);
  next.writeBigUInt64LE(attributes, (index - 1) * header.entrySize + 48);
  return next;
}

/** Re-stamps a header sector for a new entry array: entries CRC, then header CRC; every other byte is kept. */
export function restampHeader(sector: Buffer, header: GptHeader, array: Buffer): Buffer {
  const next = Buffer.from(sector);
  next.writeUInt32LE(crc32(array), 88);
  next.writeUInt32LE(0, 16);
  next.writeUInt32LE(crc32(next.subarray(0, header.headerSize)), 16);
  return next;
}

/**
 * The header sector of the other copy, for repairing a damaged one from an intact one: the same header with its own
 * location, the other copy's location and its entry array's location swapped in. The CRCs are stamped afterwards.
 */
export function relocateHeader(
  sector: Buffer,
  myLba: bigint,
  alternateLba: bigint,
  entriesLba: bigint,
): Buffer {
  const next = Buffer.from(sector);
  next.writeBigUInt64LE(myLba, 24);
  next.writeBigUInt64LE(alternateLba, 32);
  next.writeBigUInt64LE(entriesLba, 72);
  return next;
}

/** Two used entries that share blocks, or one outside the usable range: such a table is not ours to write. */
export function layoutProblem(header: GptHeader, entries: readonly GptEntry[]): string | undefined {
  const sorted = [...entries].sort((a, b) => (a.firstLba < b.firstLba ? -1 : 1));
  for (const [i, e] of sorted.entries()) {
    if (e.firstLba > e.lastLba) return `partition ${e.index} ends before it starts`;
    if (e.firstLba < header.firstUsableLba || e.lastLba > header.lastUsableLba)
      return `partition ${e.index} lies outside the usable blocks`;
    const next = sorted[i + 1];
    if (next && next.firstLba <= e.lastLba) return `partitions ${e.index} and ${next.index} overlap`;
  }
  return undefined;
}
