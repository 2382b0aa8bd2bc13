import type { GptStateConfig } from "../../config/schema.js";
import { BootwardenError } from "../../errors.js";
import { sysPath } from "../../paths.js";
import type { BlessState, BootState, BootStateBackend, MarkResult, SlotStatus } from "../types.js";
import { decodeAttributes, encodeAttributes, type SlotAttributes } from "./attributes.js";
import {
  diskOfPartition,
  formatSlotRef,
  matchesEntry,
  parseSlotRef,
  readBootedRef,
  type SlotRef,
} from "./booted.js";
import { type GptDisk, readGptDisk, writeAttributes } from "./disk.js";
import type { GptEntry } from "./table.js";

interface Slot extends SlotAttributes {
  entry: GptEntry;
  ref: string;
}

export function slotState(a: SlotAttributes): BlessState {
  if (a.successful) return "good";
  if (a.priority === 0 || a.tries === 0) return "bad";
  return "indeterminate";
}

/** Pure: the boot state as seen from the booted slot. */
export function assess(slots: readonly Slot[], booted: Slot, source: string): BootState {
  const others = slots.filter((s) => s !== booted);
  const topPriority = Math.max(...slots.map((s) => s.priority));
  const trialBoot = !booted.successful && booted.priority > 0 && booted.priority >= topPriority;
  // A slot ranked above the booted one that the bootloader skipped: its trial ran out of tries.
  const skipped = others.find((s) => s.priority > booted.priority && !s.successful && s.tries === 0);
  const state: BlessState = trialBoot ? "indeterminate" : slotState(booted);
  return {
    backend: "gpt",
    source,
    bootedSlot: booted.ref,
    trialBoot,
    state,
    triesLeft: booted.successful ? null : booted.tries,
    rolledBackFrom: skipped
      ? { slot: skipped.ref, reason: `${skipped.ref} has priority ${skipped.priority} but no tries left` }
      : null,
    slots: slots.map(
      (s): SlotStatus => ({
        name: s.ref,
        booted: s === booted,
        state: slotState(s),
        detail: {
          partition: s.entry.index,
          partuuid: s.entry.uniqueGuid,
          priority: s.priority,
          tries: s.tries,
          successful: s.successful,
        },
      }),
    ),
  };
}

export class GptBackend implements BootStateBackend {
  readonly name = "gpt" as const;

  constructor(private readonly cfg: GptStateConfig) {}

  private async bootedRef(): Promise<SlotRef> {
    if (this.cfg.booted) return parseSlotRef(this.cfg.booted)!;
    return readBootedRef(this.cfg.cmdline);
  }

  private async locate(): Promise<{ file: string; shown: string; booted: SlotRef }> {
    const booted = await this.bootedRef();
    const shown = this.cfg.disk ?? (await diskOfPartition(booted));
    return { file: sysPath(shown), shown, booted };
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
    if (slots.length === 0) throw new BootwardenError(`gpt: ${shown}: no partitions of type ${type}`);
    return slots;
  }

  private find(slots: Slot[], ref: SlotRef, shown: string): Slot {
    const s = slots.find((x) => matchesEntry(ref, x.entry));
    if (!s) {
      throw new BootwardenError(
        `gpt: ${shown}: no slot ${formatSlotRef(ref)} among ${slots.map((x) => x.ref).join(", ")}`,
      );
    }
    return s;
  }

  private async snapshot() {
    const { file, shown, booted } = await this.locate();
    const disk = await readGptDisk(file);
    const slots = this.slotsOf(disk, shown);
    return { file, shown, slots, booted: this.find(slots, booted, shown) };
  }

  async read(): Promise<BootState> {
    const { shown, slots, booted } = await this.snapshot();
    return assess(slots, booted, shown);
  }

  private async apply(
    file: string,
    shown: string,
    wanted: Map<Slot, SlotAttributes>,
    what: string,
  ): Promise<MarkResult> {
    const changes = new Map<number, bigint>();
    for (const [slot, attrs] of wanted) {
      const raw = encodeAttributes(slot.entry.attributes, attrs);
      if (raw !== slot.entry.attributes) changes.set(slot.entry.index, raw);
    }
    if (changes.size === 0) return { changed: false, message: `${what}: already so, nothing to do` };
    await writeAttributes(file, changes);
    return { changed: true, message: `${what} on ${shown}` };
  }

  async markGood(): Promise<MarkResult> {
    const { file, shown, slots, booted } = await this.snapshot();
    // As update_engine does: successful, no tries, and the highest priority so the bootloader keeps choosing it.
    const wanted = prioritize(slots, booted, { priority: 0, tries: 0, successful: true });
    return this.apply(file, shown, wanted, `marked ${booted.ref} good`);
  }

  async markBad(): Promise<MarkResult> {
    const { file, shown, slots, booted } = await this.snapshot();
    const fallback = slots.filter((s) => s !== booted && (s.successful || s.tries > 0) && s.priority > 0);
    if (fallback.length === 0) {
      throw new BootwardenError(
        `gpt: ${shown}: refusing to mark ${booted.ref} bad: no other slot is bootable, the machine would not boot`,
      );
    }
    const wanted = new Map([[booted, { priority: 0, tries: 0, successful: false }]]);
    return this.apply(file, shown, wanted, `marked ${booted.ref} bad`);
  }

  async arm(slot: string | undefined, tries: number | undefined): Promise<MarkResult> {
    if (!slot) throw new BootwardenError("gpt: arm needs --slot PARTLABEL=... or PARTUUID=...");
    const ref = parseSlotRef(slot);
    if (!ref) throw new BootwardenError(`gpt: --slot ${slot}: must be PARTLABEL=<label> or PARTUUID=<guid>`);
    const n = tries ?? this.cfg.tries;
    if (!Number.isInteger(n) || n < 1 || n > 15)
      throw new BootwardenError(`gpt: --tries ${n}: must be 1..15`);
    const file = sysPath(this.cfg.disk ?? (await diskOfPartition(ref)));
    const shown = this.cfg.disk ?? file;
    const slots = this.slotsOf(await readGptDisk(file), shown);
    const target = this.find(slots, ref, shown);
    const wanted = prioritize(slots, target, { priority: 0, tries: n, successful: false });
    return this.apply(file, shown, wanted, `armed ${target.ref} for a trial boot with ${n} tries`);
  }
}

/**
 * cgpt prioritize: the chosen slot gets a priority above every other; others keep their order, compressed
 * downwards only when the top would overflow 15.
 */
export function prioritize(
  slots: readonly Slot[],
  chosen: Slot,
  attrs: SlotAttributes,
): Map<Slot, SlotAttributes> {
  const wanted = new Map<Slot, SlotAttributes>();
  const others = slots.filter((s) => s !== chosen);
  const othersTop = Math.max(0, ...others.map((s) => s.priority));
  const chosenAlreadyTop = chosen.priority > othersTop;
  if (chosenAlreadyTop) {
    wanted.set(chosen, { ...attrs, priority: chosen.priority });
    return wanted;
  }
  if (othersTop < 15) {
    wanted.set(chosen, { ...attrs, priority: othersTop + 1 });
    return wanted;
  }
  // Make room: rank the other non-zero priorities densely from 1 upwards, keeping their order.
  const ranks = [...new Set(others.map((s) => s.priority).filter((p) => p > 0))].sort((a, b) => a - b);
  for (const s of others) {
    if (s.priority > 0) wanted.set(s, { ...s, priority: Math.min(14, ranks.indexOf(s.priority) + 1) });
  }
  wanted.set(chosen, { ...attrs, priority: Math.min(15, ranks.length + 1) });
  return wanted;
}
