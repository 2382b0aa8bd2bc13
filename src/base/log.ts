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
 */
function journalDestination(identifier: string): DestinationStream | undefined {
  if (!process.env.JOURNAL_STREAM) return undefined;
  let journald: JournalSend;
  try {
    journald = createRequire(import.meta.url)("systemd-journald") as JournalSend;
  } catch {
    return undefined;
  }
  return {
    write(line: string) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      const { level, msg, time: _t, pid: _p, hostname: _h, ...rest } = rec;
      const fields: Record<string, unknown> = { SYSLOG_IDENTIFIER: identifier };
      for (const [k, v] of Object.entries(rest)) {
        fields[/^[A-Z_]+$/.test(k) ? k : `BOOTWARDEN_${k.toUpperCase()}`] =
          typeof v === "object" ? JSON.stringify(v) : v;
      }
      const prio = PRIORITY[Number(level)] ?? "info";
      journald[prio]?.(String(msg ?? ""), fields);
    },
  };
}

export function createLogger(identifier = "bootwarden"): Logger {
  const level = process.env.BOOTWARDEN_LOG_LEVEL ?? "info";
  const dest = journalDestination(identifier);
  if (dest) return pino({ level, base: undefined }, dest);
  return pino({ level, base: undefined }, pino.destination({ dest: 1, sync: true }));
}
