import { BootwardenError } from "../../base/errors.js";
import { sysPath } from "../../base/paths.js";
import { nTries } from "../../base/plural.js";
import type { BlsStateConfig } from "../../config/schema.js";
import { prepareLock, withLock } from "../lock.js";
import type {
  ArmOptions,
  BootState,
  BootStateBackend,
  MarkResult,
  ReadOptions,
  SlotStatus,
} from "../types.js";
import { type Booted, bootedEntry } from "./booted.js";
import {
  type Entry,
  entryDir,
  findRoots,
  followDefault,
  listEntries,
  loaderDefault,
  renameEntry,
} from "./esp.js";
import {
  armed,
  blessed,
  countedAfterBlessing,
  entryId,
  entryState,
  formatEntryName,
  globMatches,
  isGlob,
  markedBad,
  parseEntryName,
} from "./names.js";
import { nextEntry } from "./next-boot.js";

const err = (code: "usage" | "not-found" | "ambiguous" | "refused" | "corrupt", msg: string) =>
  new BootwardenError("bls", code, msg);
const idOf = (e: Entry) => entryId(e.name);
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export class BlsBackend implements BootStateBackend {
  readonly name = "bls" as const;

  constructor(private readonly cfg: BlsStateConfig) {}

  private async scan() {
    const roots = await findRoots(this.cfg.esp);
    return { roots, entries: await listEntries(roots) };
  }

  private booted(entries: Entry[]): Promise<Booted> {
    return bootedEntry(entries, sysPath(this.cfg.efivars), this.cfg.efivars);
  }

  async read(opts: ReadOptions = {}): Promise<BootState> {
    const { roots, entries } = await this.scan();
    const b = await this.booted(entries);
    const next = opts.nextBoot ? await nextEntry(entries, roots, sysPath(this.cfg.efivars)) : undefined;
    const trialBoot = b.counted;
    const other = entries.find((e) => e !== b.entry && e.name.left === 0);
    const slots = entries.map(
      (e): SlotStatus => ({
        name: idOf(e),
        booted: e === b.entry,
        state: entryState(e.name),
        detail: {
          file: `${e.root}/${e.dir}/${e.file}`,
          left: e.name.left ?? null,
          done: e.name.done ?? null,
        },
      }),
    );
    return {
      backend: "bls",
      source: roots.join(", "),
      bootedSlot: b.entry ? idOf(b.entry) : (b.selected ?? "(unknown: no LoaderEntrySelected)"),
      bootedId: b.entry ? idOf(b.entry) : (b.selected ?? ""),
      trialBoot,
      state: trialBoot ? "indeterminate" : b.entry ? entryState(b.entry.name) : "indeterminate",
      triesLeft: trialBoot ? (b.entry?.name.left ?? null) : null,
      triesDone: trialBoot ? (b.entry?.name.done ?? null) : null,
      rolledBackFrom:
        !trialBoot && other ? { slot: idOf(other), reason: `${other.file} has no tries left` } : null,
      slots,
      ...(next === undefined ? {} : { nextBoot: next ? idOf(next.entry) : null }),
      ...(b.problem ? { problems: [b.problem] } : {}),
    };
  }

  /** The one entry `--slot` names: its id (`b.conf`, counter or not) or its stem (`b`), on any root. */
  private armTarget(slot: string, entries: Entry[]): Entry {
    const want = parseEntryName(slot);
    const matches = entries.filter((e) => (want ? same(idOf(e), entryId(want)) : same(e.name.stem, slot)));
    if (matches.length === 0)
      throw err("not-found", `no entry ${slot} among ${entries.map(idOf).join(", ") || "none"}`);
    if (matches.length > 1)
      throw err(
        "ambiguous",
        `${slot} names ${matches.map((e) => `${e.root}/${e.dir}/${e.file}`).join(" and ")}`,
      );
    return matches[0]!;
  }

  async identify(slot: string | undefined): Promise<string> {
    if (!slot)
      throw new BootwardenError("cli", "usage", "bls: arm needs --slot <entry id> (e.g. fedora-6.8.conf)");
    return idOf(this.armTarget(slot, (await this.scan()).entries));
  }

  async prepareWrite(): Promise<void> {
    prepareLock();
  }

  /** Re-scan and act under the lock of the booted entry's directory: every writer renames in there. */
  private async withBooted(what: string, fn: (b: Booted, entries: Entry[]) => Promise<MarkResult>) {
    const first = await this.booted((await this.scan()).entries);
    if (!first.entry)
      throw err(
        "not-found",
        `${what}: the booted entry is not among the entries (${first.selected ?? "no LoaderEntrySelected"})`,
      );
    return withLock("bls", entryDir(first.entry), first.entry.dir, async () => {
      const { entries } = await this.scan();
      return fn(await this.booted(entries), entries);
    });
  }

  markGood(): Promise<MarkResult> {
    return this.withBooted("mark-good", async (b, entries) => {
      if (b.problem) throw err("refused", b.problem);
      const e = b.entry!;
      if (e.name.left === undefined)
        return { changed: false, message: `${idOf(e)} is not counted: already good, nothing to do` };
      const to = formatEntryName(blessed(e.name));
      // An uncounted twin (foo.conf beside foo+3.conf) would make the rename a no-op for the loader: the booted
      // content replaces it, so exactly one entry of that id remains.
      const twin = entries.find((x) => x !== e && x.dir === e.dir && x.root === e.root && same(x.file, to));
      await renameEntry(e, to);
      const old =
        e.dir === "loader/entries" ? await followDefault(await findRoots(this.cfg.esp), e, to) : undefined;
      return {
        changed: true,
        message: `marked ${idOf(e)} good: ${e.file} -> ${to}${twin ? ` (replaced its uncounted twin ${twin.file})` : ""}${old ? `; loader.conf default ${old} -> ${to}` : ""}`,
      };
    });
  }

  markBad(): Promise<MarkResult> {
    return this.withBooted("mark-bad", async (b, entries) => {
      if (b.problem) throw err("refused", b.problem);
      const e = b.entry!;
      if (b.exhausted)
        throw err(
          "refused",
          `${idOf(e)} was booted with no tries left (${e.file}): marking it bad changes nothing, no entry is left to fall back to`,
        );
      if (e.name.left === 0)
        return { changed: false, message: `${idOf(e)} has no tries left: already bad, nothing to do` };
      if (!entries.some((x) => x !== e && (x.name.left === undefined || x.name.left > 0)))
        throw err(
          "refused",
          `refusing to mark ${idOf(e)} bad: no other entry is bootable, the machine would not boot`,
        );
      const to = formatEntryName(markedBad(e.name));
      await renameEntry(e, to);
      return { changed: true, message: `marked ${idOf(e)} bad: ${e.file} -> ${to}` };
    });
  }

  async arm(slot: string | undefined, tries: number | undefined, opts: ArmOptions = {}): Promise<MarkResult> {
    if (!slot)
      throw new BootwardenError("cli", "usage", "bls: arm needs --slot <entry id> (e.g. fedora-6.8.conf)");
    const n = tries ?? this.cfg.tries;
    if (!Number.isInteger(n) || n < 1 || n > 99) throw err("usage", `--tries ${n}: must be 1..99`);
    const { roots, entries } = await this.scan();
    const target = this.armTarget(slot, entries);
    if (countedAfterBlessing(target.name))
      throw err(
        "refused",
        `refusing to arm ${target.file}: blessed it would be ${entryId(target.name)}, which the boot loader still reads as counted; rename the entry`,
      );
    if (!opts.force && !entries.some((x) => x !== target && x.name.left === undefined))
      throw err(
        "refused",
        `refusing to arm ${idOf(target)}: no other entry is good to fall back to (--force to arm anyway)`,
      );
    const dflt = await loaderDefault(roots);
    return withLock("bls", entryDir(target), target.dir, async () => {
      const to = formatEntryName(armed(target.name, n));
      if (to === target.file)
        return { changed: false, message: `${idOf(target)} is armed with ${nTries(n)}: nothing to do` };
      await renameEntry(target, to);
      return {
        changed: true,
        message: `armed ${idOf(target)} for a trial boot with ${nTries(n)}: ${target.file} -> ${to}; ${await this.startsNext(roots, target, to, dflt)}`,
      };
    });
  }

  /** Whether systemd-boot starts the armed entry next, by which rule, and what to do when it does not. */
  private async startsNext(
    roots: string[],
    target: Entry,
    to: string,
    dflt: string | undefined,
  ): Promise<string> {
    // A glob default that matches the trial would keep booting it once it has failed.
    if (dflt && isGlob(dflt) && globMatches(dflt, to))
      return `warning: loader.conf "default ${dflt}" matches ${to}: after a failed trial it would keep booting the bad entry; use an exact id or the sort order`;
    const next = await nextEntry((await this.scan()).entries, roots, sysPath(this.cfg.efivars), {
      confDefault: dflt,
    });
    if (next === undefined)
      return "which entry systemd-boot starts next is not known (an entry or EFI variable could not be read)";
    if (next?.entry.root === target.root && next.entry.dir === target.dir && next.entry.file === to)
      return `systemd-boot starts it next (${next.rule})`;
    return `warning: systemd-boot starts ${next ? `${next.entry.file} next (${next.rule})` : "no entry"}, not this trial; \`bootctl set-oneshot ${to}\` starts the trial once`;
  }
}
