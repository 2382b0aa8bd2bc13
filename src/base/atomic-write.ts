import { constants as fsc } from "node:fs";
import { chown, lstat, mkdir, open, realpath, rename, unlink } from "node:fs/promises";
import path from "node:path";

export interface AtomicWriteOptions {
  /** Mode of a new file; an existing file keeps its own mode and owner. */
  mode?: number;
  /** fsync the data and the directory: for boot state and records that must survive a power cut. */
  durable?: boolean;
  /** Mode of directories created on the way (the state directory is private). */
  dirMode?: number;
}

/**
 * Write-beside-and-rename, so a reader sees the old content or the new, never a missing or short file. The target
 * is resolved through symlinks first (GRUB reads the real file, not our link), the temp name is unpredictable and
 * opened O_EXCL|O_NOFOLLOW (a planted symlink is never followed), and an existing file's owner and mode are kept.
 */
let written = 0;
const tmpSuffix = () =>
  `${process.pid.toString(36)}${(written++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export async function writeAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}) {
  const target = await realpath(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return file;
    throw err;
  });
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true, ...(opts.dirMode !== undefined ? { mode: opts.dirMode } : {}) });
  const existing = await lstat(target).catch(() => undefined);
  const mode = existing ? existing.mode & 0o7777 : (opts.mode ?? 0o640);
  // Unique enough to never meet another writer's; O_EXCL below makes a collision an error, never a shared file.
  const tmp = path.join(dir, `.${path.basename(target)}.${tmpSuffix()}.tmp`);
  const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode);
  try {
    try {
      await fh.writeFile(data);
      // The umask must not narrow a kept mode, and a kept owner is set before the file becomes visible.
      await fh.chmod(mode);
      if (existing && process.getuid?.() === 0) await chown(tmp, existing.uid, existing.gid);
      if (opts.durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  if (opts.durable) {
    const d = await open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    await d.sync().finally(() => d.close());
  }
}
