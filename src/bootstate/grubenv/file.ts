import { writeAtomic } from "../../base/atomic-write.js";
import { BootwardenError, errnoText } from "../../base/errors.js";
import { readRegular } from "../../base/read-regular.js";
import { type EnvBlock, parseEnvBlock, serializeEnvBlock } from "./codec.js";

/** How long apart the reads of a block found corrupt are: 250 ms in all before it is called corrupt. */
const REREAD_MS = [10, 20, 40, 80, 100];

/**
 * grub-editenv rewrites the block in place, with no lock (open with O_TRUNC, then one write), so a read in between
 * finds an empty file: a block found corrupt is read again a few times before it is called so.
 */
export async function readEnvFile(file: string, shown: string): Promise<EnvBlock> {
  for (let attempt = 0; ; attempt++) {
    let buf: Buffer;
    try {
      buf = await readRegular(file, 1 << 20);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code === "ENOENT" ? "not-found" : "io";
      throw new BootwardenError("grubenv", code, `${shown}: cannot read: ${errnoText(err)}`);
    }
    const block = parseEnvBlock(buf);
    if (typeof block !== "string") return block;
    if (attempt >= REREAD_MS.length)
      throw new BootwardenError("grubenv", "corrupt", `${shown}: corrupt environment block: ${block}`);
    await new Promise((r) => setTimeout(r, REREAD_MS[attempt]));
  }
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
