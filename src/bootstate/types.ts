/** The words systemd-bless-boot uses for a boot entry. */
export type BlessState = "good" | "bad" | "indeterminate";

export interface SlotStatus {
  name: string; // PARTLABEL=... for gpt; an entry name for grubenv
  booted: boolean;
  state: BlessState;
  /** Backend-specific figures (priority/tries/successful, boot_counter...) for people and --json. */
  detail: Record<string, string | number | boolean | null>;
}

export interface BootState {
  backend: "gpt" | "grubenv" | "bls" | "uboot";
  /** Where the state lives: the disk or the grubenv file. */
  source: string;
  bootedSlot: string;
  /**
   * The booted slot's identity, which trial records are keyed by: `PARTUUID=<guid>` (gpt), the entry id without its
   * counter (bls), the scheme's entry (grubenv). Names a user may type differently (PARTLABEL= or PARTUUID=, `b` or
   * `b.conf`) resolve to it through `identify`.
   */
  bootedId: string;
  trialBoot: boolean;
  state: BlessState;
  /** Boot attempts the bootloader still grants the booted slot, when the scheme counts them. */
  triesLeft: number | null;
  /** Boot attempts already made, this one included, when the boot loader records them (systemd-boot's +LEFT-DONE). */
  triesDone?: number | null;
  /** Set when this boot is a fallback after a failed trial: which slot failed, and how we know. */
  rolledBackFrom: { slot: string; reason: string } | null;
  slots: SlotStatus[];
  /** The slot the boot loader will pick at the next boot, by its own rule on this state (gptprio, BOOT_ORDER...). */
  nextBoot?: string | null;
  /** Damage found that the next write repairs (one GPT copy), or what the state cannot tell, for `status`. */
  problems?: string[];
}

export interface MarkResult {
  changed: boolean;
  message: string;
  /** Set when a damaged copy of the boot state was rebuilt from the intact one before writing. */
  repaired?: string;
}

export interface ReadOptions {
  /**
   * Also work out `nextBoot` where that costs reads the verdict does not need (BLS: every entry and three EFI
   * variables): for what shows it (`status`, the API, the reboot's record), not for the daemon's start.
   */
  nextBoot?: boolean;
}

export interface ArmOptions {
  /** Arm even when it leaves no bootable fallback slot. */
  force?: boolean;
}

/**
 * The one contract every bootloader backend fulfils. Marking is idempotent: asking for the state that is already on
 * disk succeeds and writes nothing. Every read-modify-write holds the backend's lock and recomputes from what it
 * reads under it. Errors are BootwardenErrors in the backend's domain.
 */
export interface BootStateBackend {
  readonly name: BootState["backend"];
  read(opts?: ReadOptions): Promise<BootState>;
  /** Bless the booted slot. */
  markGood(): Promise<MarkResult>;
  /** Make the booted slot unbootable so the bootloader falls back to the previous one. */
  markBad(): Promise<MarkResult>;
  /** Stage a trial boot of a slot (what an updater does after writing a new image). */
  arm(slot: string | undefined, tries: number | undefined, opts?: ArmOptions): Promise<MarkResult>;
  /** The identity (as BootState.bootedId) of the slot `arm` would arm with this argument. */
  identify(slot: string | undefined): Promise<string>;
  /** Get ready to write soon (a trial boot started): what can be paid before the verdict is paid now. */
  prepareWrite?(): Promise<void>;
}
