import { writeAtomic } from "../../base/atomic-write.js";
import { BootwardenError, errnoText } from "../../base/errors.js";
import { readRegular } from "../../base/read-regular.js";
import { type EnvBlock, parseEnvBlock, serializeEnvBlock } from "./codec.js";

export async function readEnvFile(file: string, shown: string): Promise<EnvBlock> {
  let buf: Buffer;
  try {
    buf = await readRegular(file, 1 << 20);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === "ENOENT" ? "not-found" : "io";
    throw new BootwardenError("grubenv", code, `${shown}: cannot read: ${errnoText(err)}`);
  }
  const block = parseEnvBlock(buf);
  if (typeof block === "string")
    throw new BootwardenError("grubenv", "corrupt", `${shown}: corrupt environment block: ${block}`);
  return block;
}

/**
 * Replaces the block atomically through symlinks (GRUB reads the link's target), keeping owner and mode: a full
 * 1024-byte copy is written beside the target under an unpredictable name, synced, renamed over it, and the directory
 * synced. A power cut or a concurrent reader sees the old block or the new one, never a missing or torn one.
 */
export async function writeEnvFile(file: string, shown: string, block: EnvBlock): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = serializeEnvBlock(block);
  } catch (err) {
    throw new BootwardenError("grubenv", "invalid", `${shown}: ${(err as Error).message}`);
  }
  try {
    await writeAtomic(file, bytes, { durable: true });
  } catch (err) {
    throw new BootwardenError("grubenv", "io", `${shown}: cannot write: ${errnoText(err)}`);
  }
}
