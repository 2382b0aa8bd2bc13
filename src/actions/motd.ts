import { unlink } from "node:fs/promises";
import { writeAtomic } from "../base/atomic-write.js";
import type { Logger } from "../base/log.js";
import { MOTD_FILE, sysPath } from "../base/paths.js";
import { printable } from "../core/printable.js";
import type { Motd } from "./ports.js";

/** /run/motd.d/bootwarden, as greenboot keeps its own: gone with the boot, read by pam_motd at login. */
export class FileMotd implements Motd {
  private last: string | undefined | null = null;

  constructor(readonly file = sysPath(MOTD_FILE)) {}

  async show(text: string | undefined): Promise<void> {
    if (text === this.last) return;
    this.last = text;
    // unlink, not rm({ force }): Node 20 loads its rimraf module at the first rm, on the verdict's path
    // (test/tools/mark-path.test.ts).
    if (text === undefined)
      await unlink(this.file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
    // Reasons carry unit states and entry names: no escape sequence reaches a login terminal.
    else await writeAtomic(this.file, `${printable(text)}\n`, { mode: 0o644 });
  }
}

/** Shows (or removes) the login notice; a failure is only logged: the notice never stops anything. */
export const showNotice = (d: { motd: Motd; log: Logger }, text: string | undefined): Promise<void> =>
  d.motd.show(text).catch((err: Error) => d.log.warn(`could not write the login notice: ${err.message}`));
