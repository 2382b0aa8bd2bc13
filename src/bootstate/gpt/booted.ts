import { readFile, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { BootwardenError } from "../../errors.js";
import { sysPath } from "../../paths.js";
import type { GptEntry } from "./table.js";

/** A slot reference as users write it: PARTLABEL=USR-B or PARTUUID=<guid>. */
export interface SlotRef {
  kind: "PARTLABEL" | "PARTUUID";
  value: string;
}

export function parseSlotRef(s: string): SlotRef | undefined {
  const m = /^(PARTLABEL|PARTUUID)=(.+)$/.exec(s.trim());
  if (!m) return undefined;
  return { kind: m[1] as SlotRef["kind"], value: m[2]! };
}

export function formatSlotRef(r: SlotRef): string {
  return `${r.kind}=${r.value}`;
}

export function matchesEntry(ref: SlotRef, e: GptEntry): boolean {
  return ref.kind === "PARTLABEL"
    ? e.name === ref.value
    : e.uniqueGuid.toLowerCase() === ref.value.toLowerCase();
}

/**
 * The booted /usr (Flatcar: mount.usr= / usr=) or root partition, from the kernel command line. /usr wins over
 * root= because on Flatcar the A/B slots are the /usr partitions and root= is the shared ROOT partition.
 */
export function bootedRefFromCmdline(cmdline: string): SlotRef | undefined {
  const args = new Map<string, string>();
  for (const word of cmdline.trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq > 0) args.set(word.slice(0, eq), word.slice(eq + 1).replace(/^"|"$/g, ""));
  }
  for (const key of ["mount.usr", "usr", "root"]) {
    const v = args.get(key);
    const ref = v === undefined ? undefined : parseSlotRef(v);
    if (ref) return ref;
  }
  return undefined;
}

export async function readBootedRef(cmdlinePath: string): Promise<SlotRef> {
  let text: string;
  try {
    text = await readFile(sysPath(cmdlinePath), "utf8");
  } catch (err) {
    throw new BootwardenError(`gpt: cannot read ${cmdlinePath}: ${(err as NodeJS.ErrnoException).code}`);
  }
  const ref = bootedRefFromCmdline(text);
  if (!ref) {
    throw new BootwardenError(
      `gpt: ${cmdlinePath} names no PARTUUID= or PARTLABEL= in mount.usr=, usr= or root=; set bootState.booted`,
    );
  }
  return ref;
}

/** The whole disk that holds a partition, through udev's by-partuuid/by-partlabel links and sysfs. */
export async function diskOfPartition(ref: SlotRef): Promise<string> {
  const dir = ref.kind === "PARTUUID" ? "by-partuuid" : "by-partlabel";
  const link = sysPath(`/dev/disk/${dir}/${ref.kind === "PARTUUID" ? ref.value.toLowerCase() : ref.value}`);
  try {
    const part = path.basename(await realpath(link));
    // /sys/class/block/vda3 -> ../../devices/.../vda/vda3: the parent directory is the disk.
    const target = await readlink(sysPath(`/sys/class/block/${part}`));
    return `/dev/${path.basename(path.dirname(target))}`;
  } catch (err) {
    throw new BootwardenError(
      `gpt: cannot find the disk holding ${formatSlotRef(ref)} (${(err as NodeJS.ErrnoException).code ?? err}); set bootState.disk`,
    );
  }
}
