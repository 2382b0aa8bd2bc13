import type { BlessState, BootState, SlotStatus } from "../types.js";

export type EnvChanges = Record<string, string | undefined>;
export type UbootView = Omit<BootState, "backend" | "source">;

/** What the configuration tells a scheme: the tries a good slot has (RAUC), the two root partitions (Mender). */
export interface SchemeOptions {
  attempts: number;
  parts: readonly [string, string];
}

/** A U-Boot boot-counting scheme: pure functions from the variables (and the kernel command line) to state and edits. */
export interface UbootScheme {
  readonly name: "rauc" | "mender";
  assess(env: ReadonlyMap<string, string>, cmdline: string, o: SchemeOptions): UbootView;
  good(env: ReadonlyMap<string, string>, booted: string, o: SchemeOptions): EnvChanges;
  bad(env: ReadonlyMap<string, string>, booted: string, o: SchemeOptions): EnvChanges;
  arm(env: ReadonlyMap<string, string>, slot: string, tries: number, o: SchemeOptions): EnvChanges;
  /** The slots the scheme knows of, for `arm --slot` and `status`. */
  slots(env: ReadonlyMap<string, string>, o: SchemeOptions): string[];
}

const word = (cmdline: string, key: string) => new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(cmdline)?.[1];

/**
 * RAUC's U-Boot integration (its contrib/uboot.sh and src/bootloaders/uboot.c): BOOT_ORDER lists the slots, first
 * tried first; BOOT_<slot>_LEFT is the tries left, in hex without a prefix as RAUC writes it; the boot script takes
 * one on every boot. The booted slot is `rauc.slot=` on the kernel command line. A trial is a boot of the first slot
 * in BOOT_ORDER with fewer tries left than the scheme grants a good slot; good: LEFT back to the attempts; bad: out of
 * BOOT_ORDER, LEFT 0; arm: first in BOOT_ORDER, LEFT = tries. Every boot counts down, so every boot is blessed.
 */
export const rauc: UbootScheme = {
  name: "rauc",
  slots: (env) => {
    const named = [...env.keys()].flatMap((k) => /^BOOT_(.+)_LEFT$/.exec(k)?.[1] ?? []);
    return [...new Set([...(env.get("BOOT_ORDER") ?? "").split(/\s+/).filter(Boolean), ...named])];
  },
  assess(env, cmdline, o) {
    const attempts = o.attempts;
    const order = (env.get("BOOT_ORDER") ?? "").split(/\s+/).filter(Boolean);
    const booted = word(cmdline, "rauc.slot") ?? "";
    const left = (s: string) => {
      const v = env.get(`BOOT_${s}_LEFT`);
      return v !== undefined && /^[0-9a-fA-F]+$/.test(v) ? Number.parseInt(v, 16) : undefined;
    };
    // U-Boot takes a try before it boots a slot, so the booted slot at 0 is on its last try, not out of them.
    const stateOf = (s: string): BlessState =>
      !order.includes(s) || (left(s) === 0 && s !== booted)
        ? "bad"
        : (left(s) ?? 0) >= attempts
          ? "good"
          : "indeterminate";
    const trialBoot = booted !== "" && stateOf(booted) === "indeterminate";
    // The boot loader left the first slot for a later one: the first ran out of tries.
    const skipped = order[0] && order[0] !== booted && left(order[0]) === 0 ? order[0] : undefined;
    return {
      bootedSlot: booted || "(no rauc.slot= on the kernel command line)",
      bootedId: booted,
      trialBoot,
      state: booted ? stateOf(booted) : "indeterminate",
      triesLeft: trialBoot ? (left(booted) ?? null) : null,
      rolledBackFrom: skipped
        ? { slot: skipped, reason: `BOOT_${skipped}_LEFT=0: U-Boot ran out of tries` }
        : null,
      slots: this.slots(env, o).map((s) => ({
        name: s,
        booted: s === booted,
        state: stateOf(s),
        detail: { left: env.get(`BOOT_${s}_LEFT`) ?? null, order: order.indexOf(s) },
      })),
    };
  },
  good: (_env, booted, o) => ({ [`BOOT_${booted}_LEFT`]: o.attempts.toString(16) }),
  bad: (env, booted) => ({
    BOOT_ORDER: (env.get("BOOT_ORDER") ?? "")
      .split(/\s+/)
      .filter((s) => s && s !== booted)
      .join(" "),
    [`BOOT_${booted}_LEFT`]: "0",
  }),
  arm: (env, slot, tries) => ({
    BOOT_ORDER: [slot, ...(env.get("BOOT_ORDER") ?? "").split(/\s+/).filter((s) => s && s !== slot)].join(
      " ",
    ),
    [`BOOT_${slot}_LEFT`]: tries.toString(16),
  }),
};

/**
 * Mender's U-Boot integration (meta-mender's patch, U-Boot's bootcount with BOOTCOUNT_ENV): mender_boot_part (and
 * its _hex twin) names the root partition to boot; upgrade_available=1 makes U-Boot count (bootcount against
 * bootlimit) and run altbootcmd, which swaps the part back, when the trial fails to come up. A trial is a boot with
 * upgrade_available=1, exactly one attempt; good (Mender's commit): upgrade_available=0; bad: the part back to the
 * other of the two (mender.conf's RootfsPartA and RootfsPartB, here `parts`), upgrade_available=0; arm: as Mender's
 * client does, the new part, upgrade_available=1, bootcount=0.
 */
const part = (n: string) => ({
  mender_boot_part: n,
  mender_boot_part_hex: Number(n).toString(16).toUpperCase(),
});
export const mender: UbootScheme = {
  name: "mender",
  slots: (_env, o) => [...o.parts],
  assess(env, _cmdline, o) {
    const booted = env.get("mender_boot_part") ?? "";
    const trialBoot = env.get("upgrade_available") === "1";
    const state: BlessState = trialBoot ? "indeterminate" : "good";
    return {
      bootedSlot: booted || "(no mender_boot_part)",
      bootedId: booted,
      trialBoot,
      state,
      triesLeft: trialBoot ? 0 : null,
      rolledBackFrom: null,
      slots: o.parts.map(
        (p): SlotStatus => ({
          name: p,
          booted: p === booted,
          state: p === booted ? state : "good",
          detail:
            p === booted
              ? {
                  upgrade_available: env.get("upgrade_available") ?? null,
                  bootcount: env.get("bootcount") ?? null,
                }
              : {},
        }),
      ),
    };
  },
  good: () => ({ upgrade_available: "0" }),
  bad: (_env, booted, o) => ({
    upgrade_available: "0",
    ...part(o.parts[0] === booted ? o.parts[1] : o.parts[0]),
  }),
  arm: (_env, slot) => ({ ...part(slot), upgrade_available: "1", bootcount: "0" }),
};

export const ubootSchemes = { rauc, mender } as const;
