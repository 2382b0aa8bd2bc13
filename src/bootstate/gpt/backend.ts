import { BootwardenError } from "../../base/errors.js";
import { sysPath } from "../../base/paths.js";
import { nTries } from "../../base/plural.js";
import type { GptStateConfig } from "../../config/schema.js";
import { prepareLock, readSettled, withLock } from "../lock.js";
import type { ArmOptions, BootState, BootStateBackend, MarkResult } from "../types.js";
import { decodeAttributes, encodeAttributes, type SlotAttributes } from "./attributes.js";
import {
  diskOfPartition,
  formatSlotRef,
  matchesEntry,
  parseSlotRef,
  readBootedRef,
  type SlotRef,
} from "./booted.js";
import { damage, type GptDisk, readGptDisk, updateAttributes } from "./disk.js";
import { assess, bootable, prioritize, type Slot, slotId } from "./slots.js";

const err = (code: "invalid" | "not-found" | "ambiguous" | "refused" | "usage", msg: string) =>
  new BootwardenError("gpt", code, msg);

/** What a write wants: new attributes per slot, or nothing (already so). */
type Plan = (slots: Slot[], shown: string) => Map<Slot, SlotAttributes>;

export class GptBackend implements BootStateBackend {
  readonly name = "gpt" as const;

  constructor(private readonly cfg: GptStateConfig) {}

  /** The kernel command line and the disk behind it do not change within a boot: resolved once per process. */
  private booted?: Promise<SlotRef>;

  private bootedRef(): Promise<SlotRef> {
    if (this.cfg.booted) return Promise.resolve(parseSlotRef(this.cfg.booted)!);
    this.booted ??= readBootedRef(this.cfg.cmdline).catch((err: unknown) => {
      this.booted = undefined; // not remembered: the next call reads again
      throw err;
    });
    return this.booted;
  }

  /** The whole disk behind a partition (udev's links, sysfs), once per partition and process, as the booted ref. */
  private readonly disks = new Map<string, Promise<string>>();

  private async locate(ref: SlotRef): Promise<{ file: string; shown: string }> {
    let shown = this.cfg.disk;
    if (shown === undefined) {
      const key = formatSlotRef(ref);
      let disk = this.disks.get(key);
      if (!disk) {
        disk = diskOfPartition(ref);
        this.disks.set(key, disk);
        disk.catch(() => this.disks.delete(key));
      }
      shown = await disk;
    }
    return { file: sysPath(shown), shown };
  }

  private slotsOf(disk: GptDisk, shown: string): Slot[] {
    const type = this.cfg.partitionType.toLowerCase();
    const slots = disk.entries
      .filter((e) => e.typeGuid === type)
      .map((entry) => ({
        ...decodeAttributes(entry.attributes),
        entry,
        ref: entry.name ? `PARTLABEL=${entry.name}` : `PARTUUID=${entry.uniqueGuid}`,
      }));
    if (slots.length === 0) throw err("not-found", `${shown}: no partitions of type ${type}`);
    return slots;
  }

  /** One slot per reference: a label two partitions carry names neither (udev's link would pick one at random). */
  private find(disk: GptDisk, slots: Slot[], ref: SlotRef, shown: string): Slot {
    const all = disk.entries.filter((e) => matchesEntry(ref, e));
    if (all.length > 1)
      throw err(
        "ambiguous",
        `${shown}: ${formatSlotRef(ref)} names partitions ${all.map((e) => e.index).join(" and ")}; use PARTUUID=`,
      );
    const s = slots.find((x) => matchesEntry(ref, x.entry));
    if (!s)
      throw err(
        "not-found",
        `${shown}: no slot ${formatSlotRef(ref)} among ${slots.map((x) => x.ref).join(", ")}`,
      );
    return s;
  }

  /** Both copies invalid at once is what a read overlapping another writer's (backup, then primary) can see. */
  private readDisk(file: string, shown: string): Promise<GptDisk> {
    return readSettled(
      () => readGptDisk(file),
      (read) => withLock("gpt", file, shown, read),
    );
  }

  async read(): Promise<BootState> {
    const ref = await this.bootedRef();
    const { file, shown } = await this.locate(ref);
    const disk = await this.readDisk(file, shown);
    const slots = this.slotsOf(disk, shown);
    const state = assess(slots, this.find(disk, slots, ref, shown), shown);
    const problem = damage(disk);
    return problem ? { ...state, problems: [problem] } : state;
  }

  async identify(slot: string | undefined): Promise<string> {
    const ref = this.armRef(slot);
    const { file, shown } = await this.locate(ref);
    const disk = await this.readDisk(file, shown);
    return slotId(this.find(disk, this.slotsOf(disk, shown), ref, shown));
  }

  private armRef(slot: string | undefined): SlotRef {
    if (!slot)
      throw new BootwardenError("cli", "usage", "gpt: arm needs --slot PARTLABEL=... or PARTUUID=...");
    const ref = parseSlotRef(slot);
    if (!ref) throw err("usage", `--slot ${slot}: must be PARTLABEL=<label> or PARTUUID=<guid>`);
    return ref;
  }

  async prepareWrite(): Promise<void> {
    prepareLock();
  }

  /** Read, plan and write under the disk's lock, so concurrent writers are serialised and none loses an update. */
  private write(
    ref: SlotRef,
    what: (target: Slot) => string,
    plan: (target: Slot) => Plan,
  ): Promise<MarkResult> {
    return this.locate(ref).then(({ file, shown }) =>
      withLock("gpt", file, shown, async () => {
        let target: Slot | undefined;
        const out = await updateAttributes(file, (disk) => {
          const slots = this.slotsOf(disk, shown);
          target = this.find(disk, slots, ref, shown);
          const changes = new Map<number, bigint>();
          for (const [slot, attrs] of plan(target)(slots, shown)) {
            const raw = encodeAttributes(slot.entry.attributes, attrs);
            if (raw !== slot.entry.attributes) changes.set(slot.entry.index, raw);
          }
          return changes;
        });
        const w = what(target!);
        const repaired = out.repaired ? ` (repaired first: ${out.repaired.split(";")[0]})` : "";
        return out.changed
          ? {
              changed: true,
              message: `${w} on ${shown}${repaired}`,
              ...(out.repaired ? { repaired: out.repaired } : {}),
            }
          : {
              changed: false,
              message: `${w}: already so, nothing to do${repaired}`,
              ...(out.repaired ? { repaired: out.repaired } : {}),
            };
      }),
    );
  }

  async markGood(): Promise<MarkResult> {
    // As update_engine does: successful, no tries, and the highest priority so the boot loader keeps choosing it.
    return this.write(
      await this.bootedRef(),
      (b) => `marked ${b.ref} good`,
      (booted) => (slots) => prioritize(slots, booted, { priority: 0, tries: 0, successful: true }),
    );
  }

  async markBad(): Promise<MarkResult> {
    return this.write(
      await this.bootedRef(),
      (b) => `marked ${b.ref} bad`,
      (booted) => (slots, shown) => {
        if (!slots.some((s) => s !== booted && bootable(s)))
          throw err(
            "refused",
            `${shown}: refusing to mark ${booted.ref} bad: no other slot is bootable, the machine would not boot`,
          );
        return new Map([[booted, { priority: 0, tries: 0, successful: false }]]);
      },
    );
  }

  async arm(slot: string | undefined, tries: number | undefined, opts: ArmOptions = {}): Promise<MarkResult> {
    const ref = this.armRef(slot);
    const n = tries ?? this.cfg.tries;
    if (!Number.isInteger(n) || n < 1 || n > 15) throw err("usage", `--tries ${n}: must be 1..15`);
    return this.write(
      ref,
      (t) => `armed ${t.ref} for a trial boot with ${nTries(n)}`,
      (target) => (slots) => {
        // Only a slot that booted well before is a fallback; a trial of the only good slot risks everything.
        if (!opts.force && !slots.some((s) => s !== target && s.successful && s.priority > 0))
          throw err(
            "refused",
            `refusing to arm ${target.ref}: no other slot is marked good to fall back to (--force to arm anyway)`,
          );
        return prioritize(slots, target, { priority: 0, tries: n, successful: false });
      },
    );
  }
}
