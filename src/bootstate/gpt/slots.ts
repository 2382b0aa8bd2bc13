import type { BlessState, BootState, SlotStatus } from "../types.js";
import { gptprioNext, type SlotAttributes } from "./attributes.js";
import type { GptEntry } from "./table.js";

/** A slot: a partition of the slot type, its boot attributes, and how users name it. */
export interface Slot extends SlotAttributes {
  entry: GptEntry;
  ref: string;
}

/** A slot's identity: its partition's unique GUID, whatever label or reference it is named by. */
export const slotId = (s: Slot): string => `PARTUUID=${s.entry.uniqueGuid.toLowerCase()}`;

export function slotState(a: SlotAttributes): BlessState {
  if (a.successful) return "good";
  if (a.priority === 0 || a.tries === 0) return "bad";
  return "indeterminate";
}

/** What gptprio.next would consider: a priority and either tries left or a success. */
export const bootable = (s: SlotAttributes): boolean => s.priority > 0 && (s.successful || s.tries > 0);

/** The boot state as seen from the booted slot. */
export function assess(slots: readonly Slot[], booted: Slot, source: string): BootState {
  const others = slots.filter((s) => s !== booted);
  const topPriority = Math.max(...slots.map((s) => s.priority));
  const trialBoot = !booted.successful && booted.priority > 0 && booted.priority >= topPriority;
  // A slot ranked above the booted one that the boot loader skipped: its trial ran out of tries.
  const skipped = others.find((s) => s.priority > booted.priority && !s.successful && s.tries === 0);
  const state: BlessState = trialBoot ? "indeterminate" : slotState(booted);
  return {
    backend: "gpt",
    source,
    bootedSlot: booted.ref,
    bootedId: slotId(booted),
    trialBoot,
    state,
    triesLeft: booted.successful ? null : booted.tries,
    rolledBackFrom: skipped
      ? { slot: skipped.ref, reason: `${skipped.ref} has priority ${skipped.priority} but no tries left` }
      : null,
    nextBoot: gptprioNext(slots)?.ref ?? null,
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
