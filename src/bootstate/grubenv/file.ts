import { constants as fsc } from "node:fs";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { BootwardenError } from "../../errors.js";
import { type EnvBlock, parseEnvBlock, serializeEnvBlock } from "./codec.js";

const fail = (shown: string, msg: string) => new BootwardenError(`grubenv: ${shown}: ${msg}`);

export async function readEnvFile(file: string, shown: string): Promise<EnvBlock> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw fail(shown, `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const block = parseEnvBlock(buf);
  if (typeof block === "string") throw fail(shown, `corrupt environment block: ${block}`);
  return block;
}

/**
 * Replaces the block atomically: a full 1024-byte copy is written and synced beside it, renamed over it, and the
 * directory synced. A power cut leaves the old block or the new one, never a torn one; the size never changes, and
 * GRUB finds the new file's blocks at its next load_env/save_env.
 */
export async function writeEnvFile(file: string, shown: string, block: EnvBlock): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = serializeEnvBlock(block);
  } catch (err) {
    throw fail(shown, (err as Error).message);
  }
  const mode = (await stat(file)).mode & 0o7777;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.bootwarden-new`);
  try {
    const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC, mode);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    const dir = await open(path.dirname(file), fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw fail(shown, `cannot write: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}
