import type { BootState, BootStateBackend, MarkResult } from "../../src/bootstate/types.js";

interface MemSlot {
  good: boolean;
  bad: boolean;
}

/** An A/B boot state in memory: what a boot loader keeps, with counts of the writes that changed it. */
export class MemoryBackend implements BootStateBackend {
  readonly name = "gpt" as const;
  readonly slots: Record<string, MemSlot> = { A: { good: true, bad: false }, B: { good: false, bad: false } };
  writes = { good: 0, bad: 0 };
  failMarkBad?: Error;
  /** Fail this many mark-bad calls, then succeed (a lock held for a while). */
  failMarkBadTimes = Number.POSITIVE_INFINITY;
  /** What the next write reports having repaired first (one damaged GPT copy). */
  repaired?: string;
  rolledBackFrom: BootState["rolledBackFrom"] = null;
  /** What the boot loader starts next, when a test says (undefined: not known). */
  next?: string;

  constructor(public booted = "B") {}

  async read(): Promise<BootState> {
    const s = this.slots[this.booted]!;
    const trialBoot = !s.good && !s.bad;
    return {
      backend: "gpt",
      source: "memory",
      bootedSlot: this.booted,
      bootedId: `id-${this.booted}`,
      trialBoot,
      state: s.good ? "good" : s.bad ? "bad" : "indeterminate",
      triesLeft: trialBoot ? 0 : null,
      rolledBackFrom: this.rolledBackFrom,
      slots: [],
      ...(this.next === undefined ? {} : { nextBoot: this.next }),
    };
  }

  async markGood(): Promise<MarkResult> {
    const s = this.slots[this.booted]!;
    if (s.good) return { changed: false, message: "already so" };
    s.good = true;
    this.writes.good++;
    return {
      changed: true,
      message: `marked ${this.booted} good`,
      ...(this.repaired ? { repaired: this.repaired } : {}),
    };
  }

  async markBad(): Promise<MarkResult> {
    if (this.failMarkBad && this.failMarkBadTimes-- > 0) throw this.failMarkBad;
    const s = this.slots[this.booted]!;
    if (s.bad) return { changed: false, message: "already so" };
    s.bad = true;
    this.writes.bad++;
    return { changed: true, message: `marked ${this.booted} bad` };
  }

  async identify(slot: string | undefined): Promise<string> {
    return `id-${slot}`;
  }

  async arm(): Promise<MarkResult> {
    throw new Error("not used in these tests");
  }
}
