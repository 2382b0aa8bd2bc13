import { closeSync, constants as fsc, fstatSync, openSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { BootwardenError, errnoText } from "../../base/errors.js";
import { sysPath } from "../../base/paths.js";
import { readRegular } from "../../base/read-regular.js";
import { nativeAddon } from "../../native/addon.js";
import { LOCK_WAIT_MS, lockHolder } from "../lock.js";
import { currentCopy, type EnvCopy, encodeEnv, headerSize, parseEnv } from "./codec.js";

/** Where one copy of the environment lives, as a line of fw_env.config says: device (or file), offset, size. */
export interface EnvLocation {
  device: string;
  offset: number;
  size: number;
}

const num = (v: string) =>
  /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;

/**
 * fw_env.config as libubootenv reads it: `device offset env-size [sector-size [sectors]]` per line, one line for a
 * single copy, two for a redundant pair; `#` starts a comment. One line naming the file says what is wrong.
 */
export function parseFwEnvConfig(text: string, shown: string): EnvLocation[] {
  const locs: EnvLocation[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [device, offset, size] = line.split(/\s+/);
    const loc = { device: device!, offset: num(offset ?? ""), size: num(size ?? "") };
    if (!device?.startsWith("/") || !Number.isSafeInteger(loc.offset) || !(loc.size > 5))
      throw new BootwardenError("uboot", "invalid", `${shown}:${i + 1}: not "device offset size" (${line})`);
    locs.push(loc);
  }
  if (locs.length < 1 || locs.length > 2)
    throw new BootwardenError("uboot", "invalid", `${shown}: ${locs.length} environment lines, want 1 or 2`);
  if (locs.length === 2 && locs[0]!.size !== locs[1]!.size)
    throw new BootwardenError("uboot", "invalid", `${shown}: the two copies differ in size`);
  return locs;
}

export async function readFwEnvConfig(file: string): Promise<EnvLocation[]> {
  try {
    return parseFwEnvConfig((await readRegular(sysPath(file), 1 << 16)).toString("utf8"), file);
  } catch (err) {
    if (err instanceof BootwardenError) throw err;
    throw new BootwardenError("uboot", "not-found", `${file}: cannot read: ${errnoText(err)}`);
  }
}

async function readCopy(loc: EnvLocation, redundant: boolean): Promise<EnvCopy> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(sysPath(loc.device), fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
    // Raw flash (/dev/mtdN) must be erased before it is written, which libubootenv does and bootwarden does not.
    if ((await fh.stat()).isCharacterDevice())
      throw new BootwardenError(
        "uboot",
        "invalid",
        `${loc.device}: a character device (raw flash, MTD): not supported, only block devices and files`,
      );
    const buf = Buffer.alloc(loc.size);
    const { bytesRead } = await fh.read(buf, 0, loc.size, loc.offset);
    if (bytesRead !== loc.size)
      throw Object.assign(new Error(`short read (${bytesRead} of ${loc.size} bytes)`), {});
    return parseEnv(buf, redundant);
  } catch (err) {
    if (err instanceof BootwardenError) throw err;
    throw new BootwardenError("uboot", "io", `${loc.device}: cannot read the environment: ${errnoText(err)}`);
  } finally {
    await fh?.close();
  }
}

/** The environment as libubootenv would read it, and where the next write goes. Never a fresh env: see read(). */
export interface EnvState {
  current: EnvCopy;
  /** The copy the next write replaces: the same one (single), the other one (redundant). */
  target: EnvLocation;
  /** The flags byte of the next write (redundant only). */
  flags?: number;
}

/**
 * Reads the copies and picks the one libubootenv reads. A missing or invalid environment is refused: writing a fresh
 * one would replace U-Boot's built-in defaults wholesale (and leave the machine at U-Boot's prompt).
 */
export async function readEnv(locs: readonly EnvLocation[], shown: string): Promise<EnvState> {
  const redundant = locs.length === 2;
  const copies = await Promise.all(locs.map((l) => readCopy(l, redundant)));
  if (!redundant) {
    if (!copies[0]!.valid)
      throw new BootwardenError(
        "uboot",
        "corrupt",
        `${shown}: no valid environment (bad CRC); not writing a new one`,
      );
    return { current: copies[0]!, target: locs[0]! };
  }
  const cur = currentCopy(copies[0]!, copies[1]!);
  if (cur === undefined)
    throw new BootwardenError(
      "uboot",
      "corrupt",
      `${shown}: neither copy is valid (bad CRC); not writing a new one`,
    );
  return { current: copies[cur]!, target: locs[1 - cur]!, flags: ((copies[cur]!.flags ?? 0) + 1) & 0xff };
}

/** One write of the whole new environment (the other copy on a redundant pair), then fsync. */
export async function writeEnv(state: EnvState, vars: ReadonlyMap<string, string>): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = encodeEnv(state.current, vars, state.flags);
  } catch (err) {
    throw new BootwardenError("uboot", "invalid", `${state.target.device}: ${(err as Error).message}`);
  }
  if (bytes.length !== state.target.size || bytes.length < headerSize(state.flags !== undefined))
    throw new BootwardenError("uboot", "invalid", `${state.target.device}: the copies differ in size`);
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(sysPath(state.target.device), fsc.O_WRONLY | fsc.O_NOCTTY | fsc.O_NOFOLLOW);
    const { bytesWritten } = await fh.write(bytes, 0, bytes.length, state.target.offset);
    if (bytesWritten !== bytes.length)
      throw new Error(`short write (${bytesWritten} of ${bytes.length} bytes)`);
    await fh.sync();
  } catch (err) {
    throw new BootwardenError(
      "uboot",
      "io",
      `${state.target.device}: cannot write the environment: ${errnoText(err)}`,
    );
  } finally {
    await fh?.close();
  }
}

export const LIBUBOOTENV_LOCK = "/var/lock/fw_printenv.lock";

/**
 * libubootenv's own lock, so that bootwarden never races RAUC, Mender or SWUpdate (all write through libubootenv).
 * It lives in a world-writable directory and any user may flock a file they can read, so a holder that is not root
 * after the wait is not waited for (said in the result); root holding it (an update client writing) is: the write is
 * retried later. No lock file yet means no libubootenv tool has it now.
 */
export async function withLibubootenvLock<T>(
  fn: (note: string) => Promise<T>,
  waitMs = LOCK_WAIT_MS,
): Promise<T> {
  const file = sysPath(LIBUBOOTENV_LOCK);
  let fd: number | undefined;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK | fsc.O_NOCTTY);
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      fd = undefined;
    }
  } catch {
    fd = undefined;
  }
  if (fd === undefined) return fn("");
  try {
    const native = nativeAddon();
    const until = Date.now() + waitMs;
    while (!native.tryLock(fd)) {
      if (Date.now() >= until) {
        const holder = await lockHolder(file);
        const pid = /held by pid (\d+)/.exec(holder)?.[1];
        const uid = pid
          ? /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, "utf8").catch(() => ""))?.[1]
          : undefined;
        if (uid === "0")
          throw new BootwardenError(
            "uboot",
            "busy",
            `${LIBUBOOTENV_LOCK} is held by root after ${waitMs / 1000}s (${holder})`,
          );
        return await fn(` (libubootenv's lock ${LIBUBOOTENV_LOCK} not taken: ${holder}, not root)`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return await fn("");
  } finally {
    closeSync(fd);
  }
}
