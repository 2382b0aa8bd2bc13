// Types for harness.mjs (plain ESM, run by scripts/demo.mjs and the benchmarks after the build it imports from).
export const REPO: string;
export const FLATCAR_USR: string;
export const EXIT_REBOOT: number;
export function requireRoot(): void;
export function run(cmd: string, args: string[], opts?: object): string;
export function ensureRootfs(log?: (s: string) => void): string;
export function sysextImage(): string;
export function makeFlatcarDisk(file: string): void;
export function machineConfig(opts?: { units?: string[]; deadline?: string; extra?: string }): string;

export interface SlotAttrs {
  index: number;
  label: string;
  priority: number;
  tries: number;
  successful: boolean;
}
export interface BootResult {
  slot: string;
  exit: number;
  seconds: number;
  console: string;
}
export interface MachineOptions {
  config: string;
  badSlots?: string[];
  appDelay?: number;
  install?: "script" | "deb" | "none" | "sysext";
  /** The sysext image, for install: "sysext". */
  image?: string;
  /** With install: "sysext", Flatcar's own reload after the merge (an ensure-sysext.service as flatcar/init's). */
  flatcarReload?: boolean;
}
/** A journal entry as `journalctl -o json` prints it: every field a string. */
export interface JournalEntry {
  MESSAGE: string;
  __MONOTONIC_TIMESTAMP: string;
  MESSAGE_ID?: string;
  _SYSTEMD_UNIT?: string;
  [field: string]: string | undefined;
}

export class Machine {
  constructor(name: string);
  name: string;
  dir: string;
  disk: string;
  boots: BootResult[];
  installLog?: string;
  create(opts: MachineOptions): this;
  setConfig(yaml: string): void;
  awaitRelease(): void;
  makeDisk(): void;
  arm(slot: string, tries?: number): string;
  slots(): SlotAttrs[];
  chooseSlot(): string;
  boot(opts?: { timeoutMs?: number; during?: (m: Machine) => Promise<unknown> }): Promise<BootResult>;
  journal(bootIndex: number, ...matches: string[]): JournalEntry[];
  file(p: string): string | undefined;
  chroot(...args: string[]): string;
  /** The container's processes, as host pids. */
  processes(): string[];
  killLeftovers(): void;
  destroy(): void;
}
