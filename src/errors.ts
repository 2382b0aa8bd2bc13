/** An error meant for the operator: its message is the one line the CLI prints. */
export class BootwardenError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "BootwardenError";
  }
}

export function describeError(err: unknown): string {
  if (err instanceof BootwardenError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
