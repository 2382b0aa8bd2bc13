import { crc32 } from "node:zlib";

/**
 * The U-Boot environment as libubootenv (fw_printenv, fw_setenv) keeps it: a CRC32 (little-endian, zlib's) over the
 * whole data area, for a redundant copy a flags byte after it, then `name=value\0` entries and an empty one. Pure.
 *
 * Written byte for byte as fw_setenv writes it: the entries sorted by name, one `\0` after them, and the CRC over the
 * whole data area. What follows the entries differs by layout (seen with libubootenv 0.3.2): a single copy is
 * rewritten from the buffer it was parsed in, in place (each entry's first `=` became `\0`), so the old bytes stay
 * after the new end; a redundant write goes to the other copy from a zeroed buffer.
 */
export interface EnvCopy {
  vars: Map<string, string>;
  /** The data area as read (after the CRC, and the flags byte of a redundant copy). */
  data: Buffer;
  /** A redundant copy's flags byte (libubootenv counts it up on every write). */
  flags?: number;
  /** The stored CRC matches the data. */
  valid: boolean;
}

export const headerSize = (redundant: boolean) => (redundant ? 5 : 4);

export function parseEnv(buf: Buffer, redundant: boolean): EnvCopy {
  const hdr = headerSize(redundant);
  const data = buf.subarray(hdr);
  const valid = buf.length > hdr && buf.readUInt32LE(0) === crc32(data);
  const vars = new Map<string, string>();
  for (let i = 0; i < data.length && data[i] !== 0; ) {
    let end = data.indexOf(0, i);
    if (end < 0) end = data.length;
    const entry = data.subarray(i, end).toString("latin1");
    const eq = entry.indexOf("=");
    if (eq > 0) vars.set(entry.slice(0, eq), entry.slice(eq + 1));
    i = end + 1;
  }
  return { vars, data, valid, ...(redundant ? { flags: buf[4]! } : {}) };
}

/** The image fw_setenv would write after reading `from` and setting `vars` (flags: the redundant copy's new byte). */
export function encodeEnv(from: EnvCopy, vars: ReadonlyMap<string, string>, flags?: number): Buffer {
  const work = flags === undefined ? Buffer.from(from.data) : Buffer.alloc(from.data.length);
  // A single copy: libubootenv's in-place parse, each entry's first '=' became the name's terminator.
  for (let i = 0; flags === undefined && i < work.length && work[i] !== 0; ) {
    let end = work.indexOf(0, i);
    if (end < 0) end = work.length;
    const eq = work.indexOf(0x3d, i);
    if (eq >= 0 && eq < end) work[eq] = 0;
    i = end + 1;
  }
  const names = [...vars.keys()].sort((a, b) =>
    Buffer.compare(Buffer.from(a, "latin1"), Buffer.from(b, "latin1")),
  );
  let off = 0;
  for (const name of names) {
    const entry = Buffer.from(`${name}=${vars.get(name)}\0`, "latin1");
    if (off + entry.length + 1 > work.length)
      throw new RangeError(`the environment is full (${work.length} bytes)`);
    entry.copy(work, off);
    off += entry.length;
  }
  work[off] = 0;
  const hdr = Buffer.alloc(headerSize(flags !== undefined));
  hdr.writeUInt32LE(crc32(work), 0);
  if (flags !== undefined) hdr[4] = flags & 0xff;
  return Buffer.concat([hdr, work]);
}

/**
 * Of two redundant copies, the one libubootenv reads: the only valid one, or of two valid ones the newer by flags
 * (counted up with wrap-around: 0 is newer than 255). Returns its index, or undefined when neither is valid.
 */
export function currentCopy(a: EnvCopy, b: EnvCopy): 0 | 1 | undefined {
  if (!a.valid) return b.valid ? 1 : undefined;
  if (!b.valid) return 0;
  const fa = a.flags ?? 0;
  const fb = b.flags ?? 0;
  if (fa === 0xff && fb === 0) return 1;
  if (fb === 0xff && fa === 0) return 0;
  return fb > fa ? 1 : 0;
}
