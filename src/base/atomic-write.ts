import {
  closeSync,
  fchmodSync,
  fchownSync,
  constants as fsc,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";

export interface AtomicWriteOptions {
  /** Mode of a new file; an existing file keeps its own mode and owner. */
  mode?: number;
  /** fsync the data and the directory: for boot state and records that must survive a power cut. */
  durable?: boolean;
  /** Mode of directories created on the way (the state directory is private). */
  dirMode?: number;
  /**
   * Replace a symlink at `file` rather than write through it, and create no directory: for directories other users
   * may own (node-exporter's textfile directory), where a planted link must not send a root write elsewhere.
   */
  inPlace?: boolean;
}

let written = 0;
const tmpSuffix = () =>
  `${process.pid.toString(36)}${(written++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/**
 * Write-beside-and-rename, so a reader sees the old content or the new, never a missing or short file. The target
 * is resolved through symlinks first (GRUB reads the real file, not our link), the temp name is unpredictable and
 * opened O_EXCL|O_NOFOLLOW (a planted symlink is never followed), and an existing file's owner and mode are kept.
 *
 * Synchronous calls inside: the files are small (a flag, status.json, grubenv's 1 KiB), and each asynchronous call
 * is a round trip through libuv's thread pool that a busy boot makes slow (the healthy flag follows the mark on
 * the verdict's path: bench, healthy flag after the critical unit is active).
 */
export async function writeAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}) {
  let target = file;
  try {
    if (!opts.inPlace) target = realpathSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const dir = path.dirname(target);
  if (!opts.inPlace)
    mkdirSync(dir, { recursive: true, ...(opts.dirMode !== undefined ? { mode: opts.dirMode } : {}) });
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(target);
  } catch {
    existing = undefined;
  }
  const mode = existing?.isFile() ? existing.mode & 0o7777 : (opts.mode ?? 0o640);
  // Unique enough to never meet another writer's; O_EXCL below makes a collision an error, never a shared file.
  const tmp = path.join(dir, `.${path.basename(target)}.${tmpSuffix()}.tmp`);
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
  try {
    try {
      const buf = typeof data === "string" ? Buffer.from(data) : data;
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      // The umask must not narrow a kept mode, and a kept owner is set before the file becomes visible.
      fchmodSync(fd, mode);
      if (existing?.isFile() && process.getuid?.() === 0) fchownSync(fd, existing.uid, existing.gid);
      if (opts.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw err;
  }
  if (opts.durable) {
    const d = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  }
}
