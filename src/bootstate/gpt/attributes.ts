/**
 * ChromeOS/Flatcar boot attributes live in the GPT entry's 64-bit attribute field, next to bits that belong to
 * others (Discoverable Partitions uses 60 and 63), so every change is a read-modify-write of these 9 bits only.
 */
export interface SlotAttributes {
  priority: number; // 0..15, 0 = never boot
  tries: number; // 0..15
  successful: boolean;
}

const PRIORITY_SHIFT = 48n;
const TRIES_SHIFT = 52n;
const SUCCESSFUL_BIT = 1n << 56n;
const NIBBLE = 0xfn;
const OURS = (NIBBLE << PRIORITY_SHIFT) | (NIBBLE << TRIES_SHIFT) | SUCCESSFUL_BIT;

export function decodeAttributes(raw: bigint): SlotAttributes {
  return {
    priority: Number((raw >> PRIORITY_SHIFT) & NIBBLE),
    tries: Number((raw >> TRIES_SHIFT) & NIBBLE),
    successful: (raw & SUCCESSFUL_BIT) !== 0n,
  };
}

export function encodeAttributes(raw: bigint, attrs: SlotAttributes): bigint {
  for (const [name, v] of [
    ["priority", attrs.priority],
    ["tries", attrs.tries],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 15) throw new RangeError(`${name} must be 0..15, got ${v}`);
  }
  return (
    (raw & ~OURS) |
    (BigInt(attrs.priority) << PRIORITY_SHIFT) |
    (BigInt(attrs.tries) << TRIES_SHIFT) |
    (attrs.successful ? SUCCESSFUL_BIT : 0n)
  );
}

/** Flatcar GRUB's gptprio.next: highest priority among bootable slots (tries > 0 or successful); first wins a tie. */
export function gptprioNext<T extends SlotAttributes>(slots: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const s of slots) {
    if (s.priority === 0 || !(s.tries > 0 || s.successful)) continue;
    if (!best || s.priority > best.priority) best = s;
  }
  return best;
}
