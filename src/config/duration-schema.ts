import { z } from "zod";
import { formatDuration, parseDuration } from "./duration.js";

/**
 * A duration in config: accepts the forms above, yields milliseconds, and only within [min, max]: a value a timer
 * cannot hold (or 0 where 0 means "at once") would misfire silently, so it is refused where it is written.
 */
export function durationSchema(min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `not a duration: ${JSON.stringify(v)} (use e.g. 90s, 10m, 1h30m)`,
      });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(v)} is out of range: must be ${formatDuration(min)} to ${formatDuration(max)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}
