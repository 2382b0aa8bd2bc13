import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { sysPath } from "../base/paths.js";
import { isUnder, UNIT_WRITABLE } from "../bootstate/writable.js";

/** The units that write the boot state, and the drop-in that opens their sandbox to a configured path. */
export const WRITERS = ["bootwarden.service", "bootwarden-backstop.service"];
export const DROPIN = "50-boot-state.conf";
const dropinFile = (unit: string) => `/etc/systemd/system/${unit}.d/${DROPIN}`;

export function dropinText(p: string): string {
  return `# Written by bootwarden check-config --apply: the configured boot state lies outside /boot, /efi, /boot/efi.\n[Service]\nReadWritePaths=${p}\n`;
}

/** Is the path writable for the units: under their default paths, or named by our drop-in in both of them? */
export async function sandboxAllows(p: string): Promise<boolean> {
  if (isUnder(p, UNIT_WRITABLE)) return true;
  for (const unit of WRITERS) {
    const text = await readFile(sysPath(dropinFile(unit)), "utf8").catch(() => "");
    if (!text.split("\n").includes(`ReadWritePaths=${p}`)) return false;
  }
  return true;
}

export function sandboxAdvice(p: string): string {
  return `add ReadWritePaths=${p} to ${WRITERS.map(dropinFile).join(" and ")} (bootwarden check-config --apply writes them), then systemctl daemon-reload`;
}

/** Writes the drop-ins; returns the files written. */
export async function applySandbox(p: string): Promise<string[]> {
  const out: string[] = [];
  for (const unit of WRITERS) {
    const f = dropinFile(unit);
    await mkdir(path.dirname(sysPath(f)), { recursive: true });
    await writeFile(sysPath(f), dropinText(p), { mode: 0o644 });
    out.push(f);
  }
  return out;
}
