import { readdir, readFile, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { BootwardenError, errnoText } from "../../base/errors.js";
import { sysPath } from "../../base/paths.js";
import { readRegular } from "../../base/read-regular.js";
import type { GptEntry } from "./table.js";

/** A slot reference as users write it: PARTLABEL=USR-B or PARTUUID=<guid>. */
export interface SlotRef {
  kind: "PARTLABEL" | "PARTUUID";
  value: string;
}

export function parseSlotRef(s: string): SlotRef | undefined {
  const t = s.trim();
  const m = /^(PARTLABEL|PARTUUID)=(.+)$/.exec(t);
  if (m) return { kind: m[1] as SlotRef["kind"], value: m[2]! };
  // The udev link forms, as root=/dev/disk/by-partuuid/<guid> spells them.
  const l = /^\/dev\/disk\/by-(partlabel|partuuid)\/(.+)$/.exec(t);
  if (l) return { kind: l[1] === "partlabel" ? "PARTLABEL" : "PARTUUID", value: unescapeUdev(l[2]!) };
  return undefined;
}

/** udev escapes unsafe bytes in link names as \xNN (a space in a label becomes \x20). */
const unescapeUdev = (s: string) =>
  s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

export function formatSlotRef(r: SlotRef): string {
  return `${r.kind}=${r.value}`;
}

export function matchesEntry(ref: SlotRef, e: GptEntry): boolean {
  return ref.kind === "PARTLABEL"
    ? e.name === ref.value
    : e.uniqueGuid.toLowerCase() === ref.value.toLowerCase();
}

/**
 * Splits a kernel command line as the kernel does: words at unquoted whitespace, double quotes group and are
 * removed wherever they stand (root="PARTLABEL=USR B" and "root=PARTLABEL=USR B" are the same word).
 */
export function splitCmdline(cmdline: string): Map<string, string> {
  const args = new Map<string, string>();
  let word = "";
  let quoted = false;
  let any = false;
  const flush = () => {
    if (!any) return;
    const eq = word.indexOf("=");
    if (eq > 0) args.set(word.slice(0, eq), word.slice(eq + 1));
    word = "";
    any = false;
  };
  for (const ch of cmdline) {
    if (ch === '"') {
      quoted = !quoted;
      any = true;
    } else if (!quoted && /\s/.test(ch)) flush();
    else {
      word += ch;
      any = true;
    }
  }
  flush();
  return args;
}

/**
 * The booted slot from the kernel command line. On Flatcar the A/B slots are the /usr partitions: with dm-verity,
 * verity.usr= names the partition and mount.usr= only the mapper device, so verity.usr= is asked first, then
 * mount.usr=, usr=, and last root= (on Flatcar the shared ROOT partition; on others the slot itself).
 */
export function bootedRefFromCmdline(cmdline: string): SlotRef | undefined {
  const args = splitCmdline(cmdline);
  for (const key of ["verity.usr", "mount.usr", "usr", "root"]) {
    const v = args.get(key);
    const ref = v === undefined ? undefined : parseSlotRef(v);
    if (ref) return ref;
  }
  return undefined;
}

/**
 * When the command line names no partition: the block device mounted on /usr (or /), through device-mapper to the
 * partition below it, and that partition's label from sysfs.
 */
export async function bootedRefFromMounts(): Promise<SlotRef | undefined> {
  const mounts = await readFile(sysPath("/proc/self/mountinfo"), "utf8").catch(() => "");
  const byPoint = new Map<string, string>();
  for (const line of mounts.split("\n")) {
    const f = line.split(" ");
    if (f[4]) byPoint.set(f[4], f[2]!);
  }
  for (const point of ["/usr", "/"]) {
    const devno = byPoint.get(point);
    if (!devno || devno.startsWith("0:")) continue;
    let dev = path.basename(await realpath(sysPath(`/sys/dev/block/${devno}`)).catch(() => ""));
    // dm-verity and friends: one slave below the mapper device.
    for (let depth = 0; dev && depth < 4; depth++) {
      const slaves = await readdir(sysPath(`/sys/class/block/${dev}/slaves`)).catch(() => []);
      if (slaves.length !== 1) break;
      dev = slaves[0]!;
    }
    const uevent = await readFile(sysPath(`/sys/class/block/${dev}/uevent`), "utf8").catch(() => "");
    const name = /^PARTNAME=(.+)$/m.exec(uevent)?.[1];
    if (name) return { kind: "PARTLABEL", value: name };
  }
  return undefined;
}

export async function readBootedRef(cmdlinePath: string): Promise<SlotRef> {
  let text: string;
  try {
    text = (await readRegular(sysPath(cmdlinePath), 1 << 20)).toString("utf8");
  } catch (err) {
    throw new BootwardenError("gpt", "not-found", `cannot read ${cmdlinePath}: ${errnoText(err)}`);
  }
  const ref =
    bootedRefFromCmdline(text) ?? (cmdlinePath === "/proc/cmdline" ? await bootedRefFromMounts() : undefined);
  if (!ref) {
    throw new BootwardenError(
      "gpt",
      "not-found",
      `${cmdlinePath} names no partition in verity.usr=, mount.usr=, usr= or root=, and the device behind /usr has no partition label; set bootState.booted`,
    );
  }
  return ref;
}

/** The whole disk that holds a partition, through udev's by-partuuid/by-partlabel links and sysfs. */
export async function diskOfPartition(ref: SlotRef): Promise<string> {
  const dir = ref.kind === "PARTUUID" ? "by-partuuid" : "by-partlabel";
  const name =
    ref.kind === "PARTUUID"
      ? ref.value.toLowerCase()
      : ref.value.replace(/[^\w.#+:=@-]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  const link = sysPath(`/dev/disk/${dir}/${name}`);
  try {
    const part = path.basename(await realpath(link));
    // /sys/class/block/vda3 -> ../../devices/.../vda/vda3: the parent directory is the disk.
    const target = await readlink(sysPath(`/sys/class/block/${part}`));
    return `/dev/${path.basename(path.dirname(target))}`;
  } catch (err) {
    throw new BootwardenError(
      "gpt",
      "not-found",
      `cannot find the disk holding ${formatSlotRef(ref)} (${errnoText(err)}); set bootState.disk`,
    );
  }
}
