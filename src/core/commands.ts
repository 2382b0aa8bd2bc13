/**
 * How a command or a script from a directory is run, and the transient unit it runs as. Pure: the directory
 * listing and its ownership rules are in trust/scripts.ts.
 */

/** How a command check runs: as a transient oneshot unit (its name is the check's target). */
export interface CommandSpec {
  argv: string[];
  /** Each attempt is killed after this many ms. */
  timeout: number;
  /** A failed attempt is retried after this many ms, until the deadline; none: one attempt. */
  interval?: number;
  /** Start after network-online.target (After= and Wants=). */
  network: boolean;
}

/** A command line is shell syntax (pipes, `||`), as users write it in a unit's ExecStart=/bin/sh -c. */
export const lineArgv = (line: string): string[] => ["/bin/sh", "-c", line];

/** greenboot runs every *.sh with bash, executable or not; anything else in the directory runs as itself. */
export const scriptArgv = (file: string): string[] => (file.endsWith(".sh") ? ["/bin/bash", file] : [file]);

/** A unit name segment from free text: systemd allows [A-Za-z0-9:_.-] (and \ escapes, which read badly). */
function segment(text: string): string {
  const s = text
    .replace(/[^A-Za-z0-9:_.-]+/g, "_")
    .replace(/^[_.-]+|[_.-]+$/g, "")
    .slice(0, 64);
  return s || "x";
}

/**
 * Names for transient units, unique within one daemon: `bootwarden-<role>-<label>.service` so that
 * `journalctl -u 'bootwarden-check-*'` finds every check's output.
 */
export class TransientNames {
  private readonly taken = new Set<string>();

  name(role: string, label: string): string {
    const base = `bootwarden-${role}-${segment(label)}`;
    let n = base;
    for (let i = 2; this.taken.has(n); i++) n = `${base}-${i}`;
    this.taken.add(n);
    return `${n}.service`;
  }
}

/** The label of a command check: a script's file name, or the first word of a command line. */
export function commandLabel(argv: readonly string[]): string {
  const file = argv[0] === "/bin/sh" ? (argv[2] ?? "").trim().split(/\s+/)[0] : argv.at(-1);
  return (file ?? "").split("/").pop() ?? "";
}

export function commandSpec(
  argv: string[],
  timeout: number,
  network: boolean,
  interval?: number,
): CommandSpec {
  return interval === undefined ? { argv, timeout, network } : { argv, timeout, interval, network };
}
