import { constants as fsc } from "node:fs";
import { open } from "node:fs/promises";

/**
 * Reads a file that must be a regular file: opened with O_NONBLOCK, so a FIFO or device planted in its place cannot
 * hang the open, then refused by type before any read. `maxBytes` bounds what a huge file could cost.
 * Errors are Node's (ENOENT, EACCES, ...) or one saying "not a regular file (a fifo)".
 */
export async function readRegular(file: string, maxBytes = 16 << 20): Promise<Buffer> {
  const fh = await open(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`not a regular file (${kindOf(st)})`);
    if (st.size > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

function kindOf(st: import("node:fs").Stats): string {
  if (st.isFIFO()) return "a fifo";
  if (st.isDirectory()) return "a directory";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "not a file";
}
