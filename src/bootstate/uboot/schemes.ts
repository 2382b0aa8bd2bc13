import type { BlessState, BootState, SlotStatus } from "../types.js";
import { type Running, word } from "./running.js";

export type EnvChanges = Record<string, string | undefined>;
export type UbootView = Omit<BootState, "backend" | "source">;

/**
 * What the configuration tells a scheme: the tries a good slot has (RAUC), the two slots (Mender's root partitions,
 * the values of SWUpdate's slot variable), and that variable's name.
 */
export interface SchemeOptions {
  attempts: number;
  parts: readonly [string, string];
  slotVariable?: string;
  /** SWUpdate with named parts: each one's root partition number, for telling the booted one from root=. */
  rootParts?: readonly [string, string];
}

/** A U-Boot boot-counting scheme: pure functions from the variables (and the kernel command line) to state and edits. */
export interface UbootScheme {
  readonly name: "rauc" | "mender" | "swupdate";
  assess(env: ReadonlyMap<string, string>, running: Running, o: SchemeOptions): UbootView;
  good(env: ReadonlyMap<string, string>, booted: string, o: SchemeOptions): EnvChanges;
  bad(env: ReadonlyMap<string, string>, booted: string, o: SchemeOptions): EnvChanges;
  arm(env: ReadonlyMap<string, string>, slot: string, tries: number, o: SchemeOptions): EnvChanges;
  /** The slots the scheme knows of, for `arm --slot` and `status`. */
  slots(env: ReadonlyMap<string, string>, o: SchemeOptions): string[];
}

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
  assess(env, { cmdline }, o) {
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
      nextBoot: order.find((s) => (left(s) ?? 0) > 0) ?? null,
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

/** U-Boot's bootcount: past bootlimit, altbootcmd boots the other slot. No figures: no limit known, tries left. */
const countLeft = (env: ReadonlyMap<string, string>) => {
  const [count, limit] = [Number(env.get("bootcount")), Number(env.get("bootlimit"))];
  return !(Number.isInteger(count) && Number.isInteger(limit)) || count < limit;
};
const otherOf = (p: string, o: SchemeOptions) => (o.parts[0] === p ? o.parts[1] : o.parts[0]);

/**
 * Mender and SWUpdate point one variable at the part U-Boot boots. The booted part is root='s when that is one of
 * `parts`; else the variable's, which is right only until a mark bad rewrites it, and `status` says so. The variable
 * names another part than the booted one when a trial is staged for the next boot, or after a mark bad.
 */
function placed(armed: string, running: Running, o: SchemeOptions, variable: string) {
  const numbers = o.rootParts ?? o.parts;
  const k = running.rootPart === undefined ? -1 : numbers.indexOf(running.rootPart);
  const fromRoot = k < 0 ? "" : o.parts[k]!;
  const named = numbers.some((n) => !/^\d+$/.test(n));
  const problem = `root= on the kernel command line is none of the partitions ${numbers.join(", ")}: the booted slot is taken from ${variable}, which a mark bad rewrites${named ? " (set bootState.rootParts)" : ""}`;
  return { booted: fromRoot || armed, ...(fromRoot ? {} : { problems: [problem] }) };
}

/**
 * Mender's U-Boot integration (meta-mender's patch, U-Boot's bootcount with BOOTCOUNT_ENV): mender_boot_part (and
 * its _hex twin) names the root partition to boot; upgrade_available=1 makes U-Boot count (bootcount against
 * bootlimit) and run altbootcmd, which swaps the part back, when the trial fails to come up. A trial is a boot of the
 * part mender_boot_part names with upgrade_available=1, exactly one attempt; good (Mender's commit):
 * upgrade_available=0; bad: the part back to the other of the two (mender.conf's RootfsPartA and RootfsPartB, here
 * `parts`), upgrade_available=0; arm: as Mender's client does, the new part, upgrade_available=1, bootcount=0.
 */
const part = (n: string) => ({
  mender_boot_part: n,
  mender_boot_part_hex: Number(n).toString(16).toUpperCase(),
});
export const mender: UbootScheme = {
  name: "mender",
  slots: (_env, o) => [...o.parts],
  assess(env, running, o) {
    const armed = env.get("mender_boot_part") ?? "";
    const { booted, problems } = placed(armed, running, o, "mender_boot_part");
    const pending = env.get("upgrade_available") === "1";
    const trialBoot = pending && booted === armed;
    const state: BlessState = trialBoot ? "indeterminate" : booted === armed || pending ? "good" : "bad";
    return {
      nextBoot: pending && !countLeft(env) ? otherOf(armed, o) : armed || null,
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
          state: p === booted ? state : p === armed && pending ? "indeterminate" : "good",
          detail:
            p === armed
              ? {
                  upgrade_available: env.get("upgrade_available") ?? null,
                  bootcount: env.get("bootcount") ?? null,
                }
              : {},
        }),
      ),
      ...(problems ? { problems } : {}),
    };
  },
  good: () => ({ upgrade_available: "0" }),
  // A trial of the other part staged for the next boot already leaves the booted one: keep it a trial.
  bad: (env, booted, o) =>
    env.get("upgrade_available") === "1" && env.get("mender_boot_part") !== booted
      ? {}
      : { upgrade_available: "0", ...part(otherOf(booted, o)) },
  arm: (_env, slot) => ({ ...part(slot), upgrade_available: "1", bootcount: "0" }),
};

/**
 * SWUpdate's U-Boot integration (its include/state.h; U-Boot's bootcount with bootlimit and altbootcmd): `ustate` is
 * 1 (installed) or 2 (testing) during a trial, 0 once the update is confirmed, 3 when it failed; the boot script
 * picks the slot by a variable the project names (slotVariable, one of `parts`). good: ustate 0, upgrade_available 0,
 * bootcount 0; bad: the slot variable back at the other part, ustate 3, upgrade_available 0; arm: the slot, ustate 1,
 * upgrade_available 1, bootcount 0. A normal boot with ustate 3 follows a failed trial of the other slot.
 */
export const swupdate: UbootScheme = {
  name: "swupdate",
  slots: (_env, o) => [...o.parts],
  assess(env, running, o) {
    const variable = o.slotVariable ?? "";
    const armed = env.get(variable) ?? "";
    const { booted, problems } = placed(armed, running, o, variable);
    const ustate = env.get("ustate") ?? "0";
    const pending = ustate === "1" || ustate === "2";
    const failed = ustate === "3";
    const trialBoot = pending && booted === armed;
    const state: BlessState = trialBoot ? "indeterminate" : booted !== armed && failed ? "bad" : "good";
    const [count, limit] = [Number(env.get("bootcount")), Number(env.get("bootlimit"))];
    return {
      nextBoot: pending && !countLeft(env) ? otherOf(armed, o) : armed || null,
      bootedSlot: booted || `(no ${variable} in the environment)`,
      bootedId: booted,
      trialBoot,
      state,
      triesLeft:
        trialBoot && Number.isInteger(count) && Number.isInteger(limit) ? Math.max(0, limit - count) : null,
      rolledBackFrom:
        failed && booted === armed
          ? { slot: otherOf(armed, o), reason: "ustate=3: the update failed" }
          : null,
      slots: o.parts.map(
        (p): SlotStatus => ({
          name: p,
          booted: p === booted,
          state:
            p === booted
              ? state
              : p === armed
                ? pending
                  ? "indeterminate"
                  : "good"
                : failed
                  ? "bad"
                  : "good",
          detail: p === armed ? { ustate, bootcount: env.get("bootcount") ?? null } : {},
        }),
      ),
      ...(problems ? { problems } : {}),
    };
  },
  good: () => ({ ustate: "0", upgrade_available: "0", bootcount: "0" }),
  bad: (env, booted, o) => {
    const ustate = env.get("ustate");
    if ((ustate === "1" || ustate === "2") && env.get(o.slotVariable!) !== booted) return {};
    return { [o.slotVariable!]: otherOf(booted, o), ustate: "3", upgrade_available: "0" };
  },
  arm: (_env, slot, _tries, o) => ({
    [o.slotVariable!]: slot,
    ustate: "1",
    upgrade_available: "1",
    bootcount: "0",
  }),
};

export const ubootSchemes = { rauc, mender, swupdate } as const;
