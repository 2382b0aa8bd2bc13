import { readFile, realpath } from "node:fs/promises";
import path from "node:path";

/** What the running system says of the boot: the kernel command line, and the partition number root= names. */
export interface Running {
  cmdline: string;
  rootPart?: string;
}

/** The value of `key=` on a kernel command line. */
export const word = (cmdline: string, key: string) => new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(cmdline)?.[1];

/**
 * The partition number of root= on the kernel command line (`/dev/mmcblk0p2` → 2, `PARTUUID=…` through udev's
 * link), as Mender's client finds its active part from the mounted root rather than from mender_boot_part: a mark
 * bad points that variable at the other part, so it names the booted part only until the first mark. `root` is the
 * tree /dev and /sys are read from (a fixture in tests). Undefined when root= names no partition this can place.
 */
export async function rootPartition(cmdline: string, root: string): Promise<string | undefined> {
  const arg = word(cmdline, "root");
  if (!arg) return undefined;
  const tag = /^(PARTUUID|PARTLABEL|UUID|LABEL)=(.+)$/.exec(arg);
  const dev = tag ? `/dev/disk/by-${tag[1]!.toLowerCase()}/${tag[2]}` : arg;
  if (!dev.startsWith("/dev/") || dev.includes("/../")) return undefined;
  const name = path.basename(await realpath(path.join(root, dev)).catch(() => (tag ? "" : dev)));
  if (!name) return undefined;
  const sysfs = await readFile(path.join(root, "sys/class/block", name, "partition"), "utf8").catch(() => "");
  return /^\d+$/.test(sysfs.trim()) ? sysfs.trim() : /^(?:[a-z]+|.*\dp)(\d+)$/.exec(name)?.[1];
}
