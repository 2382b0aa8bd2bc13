/**
 * Errors meant for the operator. Each carries a domain (which layer or backend) and a code (what kind of failure),
 * so callers branch on `code`, never on message text; the message is the one line the CLI prints, and names the file,
 * key or device itself (the layer that knows it writes it).
 */
export type ErrorDomain = "cli" | "config" | "gpt" | "grubenv" | "bls" | "uboot" | "dbus" | "state" | "flags";

export type ErrorCode =
  | "usage" // the command line is wrong
  | "invalid" // the configuration or an argument is wrong
  | "not-found" // a file, device, slot or partition is not there
  | "ambiguous" // a reference matches more than one thing
  | "corrupt" // on-disk content cannot be trusted
  | "refused" // the write would leave the machine worse off (no fallback, a failing slot, ...)
  | "unsafe" // a path an unprivileged user could control
  | "io" // reading or writing failed
  | "busy" // another writer holds the lock
  | "permission" // needs root
  | "exists" // already there (a transient unit started earlier in this boot)
  | "timeout"; // a peer did not answer in time

/** The exit statuses (bootwarden(8)): 0 ok, 1 failure, 2 usage, 77 permission, 78 configuration. */
const EXIT: Partial<Record<ErrorCode, number>> = { usage: 2, invalid: 78, permission: 77 };

export class BootwardenError extends Error {
  readonly exitCode: number;

  constructor(
    readonly domain: ErrorDomain,
    readonly code: ErrorCode,
    detail: string,
    exitCode?: number,
  ) {
    super(domain === "cli" ? detail : `${domain}: ${detail}`);
    this.name = "BootwardenError";
    // A configuration that cannot be read is a configuration problem too (EX_CONFIG), whatever the cause.
    this.exitCode = exitCode ?? EXIT[code] ?? (domain === "config" ? 78 : 1);
  }
}

export const isCode = (err: unknown, code: ErrorCode): boolean =>
  err instanceof BootwardenError && err.code === code;

/** The short form of a system error for one-line messages: "ENOENT", "EACCES", or the message when there is no code. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string") return code;
  return describeError(err);
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
