import { rm } from "node:fs/promises";
import { writeAtomic } from "../base/atomic-write.js";
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
    if (text === undefined) await rm(this.file, { force: true });
    // Reasons carry unit states and entry names: no escape sequence reaches a login terminal.
    else await writeAtomic(this.file, `${printable(text)}\n`, { mode: 0o644 });
  }
}
