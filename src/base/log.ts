import { createRequire } from "node:module";
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

const PRIORITY: Record<number, string> = {
  10: "debug",
  20: "debug",
  30: "info",
  40: "warning",
  50: "err",
  60: "crit",
};

type JournalSend = Record<string, (message: string, fields: Record<string, unknown>) => void>;

/**
 * Under journald (JOURNAL_STREAM set) every record goes to journald natively, with its upper-case keys as journal
 * fields (MESSAGE_ID, BOOTWARDEN_SLOT, UNIT, ...). Elsewhere pino's JSON lines go to stdout.
 * The journal path hooks pino's log method and sends the call's own fields: pino would serialize each record to a
 * JSON line only for this process to parse it back, and with a thousand critical units that round trip was a third
 * of the daemon's CPU in the burst (bench/results.md).
 */
function journalSender(identifier: string): ((level: number, args: unknown[]) => void) | undefined {
  if (!process.env.JOURNAL_STREAM) return undefined;
  let journald: JournalSend;
  try {
    journald = createRequire(import.meta.url)("systemd-journald") as JournalSend;
  } catch {
    return undefined;
  }
  return (level, args) => {
    const [first, ...rest] = args;
    const withFields = typeof first === "object" && first !== null && !(first instanceof Error);
    const err = first instanceof Error ? first : undefined;
    const msg = withFields || err ? (rest[0] ?? err?.message) : first;
    const fields: Record<string, unknown> = { SYSLOG_IDENTIFIER: identifier };
    if (err) fields.BOOTWARDEN_ERROR = err.message;
    if (withFields)
      for (const [k, v] of Object.entries(first as Record<string, unknown>)) {
        if (v === undefined) continue;
        fields[/^[A-Z_]+$/.test(k) ? k : `BOOTWARDEN_${k.toUpperCase()}`] =
          typeof v === "object" ? JSON.stringify(v) : v;
      }
    journald[PRIORITY[level] ?? "info"]?.(String(msg ?? ""), fields);
  };
}

export function createLogger(identifier = "bootwarden"): Logger {
  const level = process.env.BOOTWARDEN_LOG_LEVEL ?? "info";
  const send = journalSender(identifier);
  if (send)
    return pino(
      {
        level,
        base: undefined,
        hooks: {
          logMethod(args, _method, lvl) {
            send(lvl, args);
          },
        },
      },
      // Never written to: the hook sends every record.
      { write: () => undefined } as DestinationStream,
    );
  return pino({ level, base: undefined }, pino.destination({ dest: 1, sync: true }));
}
