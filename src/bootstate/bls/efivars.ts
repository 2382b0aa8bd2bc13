import path from "node:path";
import { errnoText } from "../../base/errors.js";
import { readRegular } from "../../base/read-regular.js";

/** systemd-boot's vendor GUID for its EFI variables (LoaderBootCountPath, LoaderEntrySelected, ...). */
export const LOADER_GUID = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f";

/**
 * An EFI variable's content as efivarfs shows it: 4 attribute bytes, then the value; the loader's strings are
 * UTF-16LE and NUL-terminated. Returns the string or why it is not one.
 */
export function decodeEfiString(buf: Uint8Array): string | { problem: string } {
  if (buf.length < 4) return { problem: `${buf.length} bytes: too short for the attribute word` };
  const body = Buffer.from(buf.subarray(4));
  if (body.length % 2 !== 0) return { problem: `odd length ${body.length}: not UTF-16` };
  let s = body.toString("utf16le");
  const nul = s.indexOf("\0");
  if (nul >= 0) {
    if (/[^\0]/.test(s.slice(nul))) return { problem: "data after the terminating NUL" };
    s = s.slice(0, nul);
  }
  if (s.includes("\uFFFD")) return { problem: "not valid UTF-16" };
  return s;
}

export function encodeEfiString(s: string, attributes = 6): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(attributes);
  return Buffer.concat([head, Buffer.from(`${s}\0`, "utf16le")]);
}

export type EfiRead = { value: string } | { absent: true } | { problem: string };

/** Reads one of the loader's variables from an efivarfs directory (whole: efivarfs files cannot be seeked). */
export async function readLoaderVar(efivars: string, name: string): Promise<EfiRead> {
  let buf: Buffer;
  try {
    buf = await readRegular(path.join(efivars, `${name}-${LOADER_GUID}`), 1 << 16);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { absent: true };
    return { problem: `cannot read ${name}: ${errnoText(err)}` };
  }
  const s = decodeEfiString(buf);
  return typeof s === "string" ? { value: s } : { problem: `${name}: ${s.problem}` };
}
