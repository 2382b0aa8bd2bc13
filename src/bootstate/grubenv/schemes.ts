import type { BlessState, BootState } from "../types.js";

export type EnvChanges = Record<string, string | undefined>;
export type SchemeView = Omit<BootState, "backend" | "source" | "bootedId">;

/** A grubenv boot-counting scheme: pure functions from the variables (and the kernel command line) to state/edits. */
export interface GrubenvScheme {
  readonly name: "greenboot" | "kairos";
  assess(env: ReadonlyMap<string, string>, cmdline: string): SchemeView;
  good(env: ReadonlyMap<string, string>): EnvChanges;
  bad(env: ReadonlyMap<string, string>): EnvChanges;
  arm(tries: number): EnvChanges;
}

/**
 * Fedora/greenboot: the updater sets boot_counter=N, boot_success=0. GRUB decrements boot_counter each boot and,
 * at 0, boots the fallback entry and sets boot_counter=-1. A healthy boot sets boot_success=1 and drops the counter.
 */
export const greenboot: GrubenvScheme = {
  name: "greenboot",
  assess(env) {
    const counterRaw = env.get("boot_counter");
    const counter = counterRaw === undefined ? undefined : Number.parseInt(counterRaw, 10);
    const success = env.get("boot_success") === "1";
    const fellBack = counter !== undefined && counter < 0;
    const trialBoot = counter !== undefined && counter >= 0 && !success;
    const booted = fellBack ? "fallback" : "default";
    const state: BlessState = success || counter === undefined ? "good" : fellBack ? "bad" : "indeterminate";
    const detail = { boot_counter: counterRaw ?? null, boot_success: env.get("boot_success") ?? null };
    return {
      bootedSlot: booted,
      trialBoot,
      state: trialBoot ? "indeterminate" : fellBack ? "good" : state,
      triesLeft: trialBoot ? counter! : null,
      rolledBackFrom: fellBack ? { slot: "default", reason: "boot_counter=-1: GRUB ran out of tries" } : null,
      // greenboot's GRUB snippet: a counter at 0 or -1 boots the fallback entry, any other the default one.
      nextBoot: counter !== undefined && counter <= 0 ? "fallback" : "default",
      slots: [
        { name: "default", booted: booted === "default", state: fellBack ? "bad" : state, detail },
        { name: "fallback", booted: booted === "fallback", state: "good", detail: {} },
      ],
    };
  },
  good: () => ({ boot_success: "1", boot_counter: undefined }),
  bad: () => ({ boot_counter: "0", boot_success: "0" }),
  arm: (tries) => ({ boot_counter: String(tries), boot_success: "0" }),
};

/**
 * Kairos (its 08_grub.yaml / grub.cfg): when enable_boot_assessment (or enable_boot_assessment_always) is "yes" and
 * no entry was picked by hand, GRUB boots the default entry and saves boot_assessment_tentative=yes; if tentative is
 * already "yes" it boots the "fallback" entry with "upgrade_failure" on the command line instead. A good boot clears
 * the sentinels by setting them empty, as Kairos' own boot.before step does with grub2-editenv.
 */
export const kairos: GrubenvScheme = {
  name: "kairos",
  assess(env, cmdline) {
    const enabled =
      env.get("enable_boot_assessment") === "yes" || env.get("enable_boot_assessment_always") === "yes";
    const tentative = env.get("boot_assessment_tentative") === "yes";
    const fellBack = /(^|\s)upgrade_failure(\s|$)/.test(cmdline);
    const trialBoot = enabled && tentative && !fellBack;
    const booted = fellBack ? "fallback" : "active";
    const detail = {
      enable_boot_assessment: env.get("enable_boot_assessment") ?? null,
      enable_boot_assessment_always: env.get("enable_boot_assessment_always") ?? null,
      boot_assessment_tentative: env.get("boot_assessment_tentative") ?? null,
    };
    const activeState: BlessState = fellBack ? "bad" : trialBoot ? "indeterminate" : "good";
    return {
      bootedSlot: booted,
      trialBoot,
      state: fellBack ? "good" : activeState,
      triesLeft: trialBoot ? 0 : null,
      rolledBackFrom: fellBack
        ? { slot: "active", reason: "upgrade_failure on the kernel command line" }
        : null,
      // Kairos' grub.cfg: assessment on and tentative already "yes" boots the fallback entry.
      nextBoot: enabled && tentative ? "fallback" : "active",
      slots: [
        { name: "active", booted: !fellBack, state: activeState, detail },
        { name: "fallback", booted: fellBack, state: "good", detail: {} },
      ],
    };
  },
  good: (env) => ({
    enable_boot_assessment: env.has("enable_boot_assessment") ? "" : undefined,
    boot_assessment_tentative: env.has("boot_assessment_tentative") ? "" : undefined,
  }),
  // Tentative=yes is what sends GRUB to the fallback entry at the next boot.
  bad: () => ({ enable_boot_assessment: "yes", boot_assessment_tentative: "yes" }),
  // A stale tentative=yes from an earlier failure would skip the new image entirely: clear it when arming.
  arm: () => ({ enable_boot_assessment: "yes", boot_assessment_tentative: "" }),
};

export const schemes = { greenboot, kairos } as const;
