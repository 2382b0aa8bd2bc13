import { BootwardenError } from "../base/errors.js";

/**
 * PID 1 answers nothing while it works through its run queue: a boot that started a thousand units kept it silent
 * for 16 s on the bench machine, and a 10 s limit made the daemon's start fail there (e2e: "PID 1 silent for 12 s").
 * Waiting for PID 1 loses nothing (the deadline is the daemon's own timer); the limit stays below the unit's
 * TimeoutStartSec=60s, so that a start that cannot finish ends with an error naming the call, not with systemd's kill.
 */
export const CALL_TIMEOUT_MS = 50_000;

/** `reply` raced against `ms` and the bus's first error (`broken`): a call with no answer fails naming itself. */
export async function timedCall<T>(
  reply: Promise<T>,
  broken: Promise<never>,
  name: string,
  ms: number,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BootwardenError("dbus", "timeout", `${name} got no answer in ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([reply, timeout, broken]);
  } finally {
    clearTimeout(timer);
  }
}
