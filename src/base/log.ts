import { createRequire } from "node:module";
import pino from "pino";

export type LogFields = Record<string, unknown>;
export type LogLevel = "debug" | "info" | "warn" | "error";
type LogMethod = { (msg: string): void; (fields: LogFields, msg: string): void };
/** What bootwarden's code calls: pino's methods for its four levels, and child loggers that carry bindings. */
export type Logger = Record<LogLevel, LogMethod> & { child(bindings: LogFields): Logger };

// pino's level numbers: anything that read the JSON lines before reads them still.
export const LEVEL_NUMBER: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };
const PRIORITY: Record<number, string> = { 20: "debug", 30: "info", 40: "warning", 50: "err", 60: "crit" };
/** Keys of a JSON line that a record's own fields may not replace. */
const RESERVED = new Set(["level", "time", "msg", "name"]);

type JournalSend = Record<string, (message: string, fields: Record<string, unknown>) => void>;

/** The journald addon, or why it could not be loaded. */
function loadJournald(): JournalSend | string {
  try {
    return createRequire(import.meta.url)("systemd-journald") as JournalSend;
  } catch (err) {
    return (err as Error).message.split("\n")[0] ?? String(err);
  }
}

/** A record's fields as journal fields: upper-case keys as they are (MESSAGE_ID, BOOTWARDEN_SLOT), others prefixed. */
function journalFields(identifier: string, parts: (LogFields | undefined)[]): Record<string, unknown> {
  const fields: Record<string, unknown> = { SYSLOG_IDENTIFIER: identifier };
  for (const given of parts)
    for (const [k, v] of Object.entries(given ?? {})) {
      if (v === undefined || RESERVED.has(k)) continue;
      fields[/^[A-Z_]+$/.test(k) ? k : `BOOTWARDEN_${k.toUpperCase()}`] =
        typeof v === "object" ? JSON.stringify(v) : v;
    }
  return fields;
}

/**
 * The logger of the daemon and the CLI: one pino instance (child loggers carry bindings such as the slot or a hook's
 * unit). Under journald (JOURNAL_STREAM set) pino's logMethod hook hands each record to journald natively, with its
 * fields and the child's bindings as journal fields and the priority from the level: nothing is serialized to JSON
 * and parsed back, no worker thread. Elsewhere pino writes its own JSON lines, synchronously (nothing lost at exit);
 * `pino-pretty` reads them. A journald addon that cannot be loaded is said once on stderr, and JSON lines are used.
 */
export function createLogger(
  identifier = "bootwarden",
  env = process.env,
  write: (line: string) => void = (line) => void process.stdout.write(line),
  stderr: (line: string) => void = (line) => void process.stderr.write(line),
): Logger {
  const wanted = env.BOOTWARDEN_LOG_LEVEL ?? "info";
  const known = Object.hasOwn(LEVEL_NUMBER, wanted);
  let journald: JournalSend | undefined;
  if (env.JOURNAL_STREAM) {
    const j = loadJournald();
    if (typeof j === "string")
      stderr(`${identifier}: cannot log to journald natively (${j}); writing JSON lines\n`);
    else journald = j;
  }
  const log = pino(
    {
      level: known ? wanted : "info",
      base: { name: identifier },
      hooks: {
        logMethod(args, method, level) {
          const [a, b] = args as unknown as [LogFields | string, string | undefined];
          const given = typeof a === "string" ? undefined : a;
          const msg = typeof a === "string" ? a : (b ?? "");
          if (journald) {
            const send = journald[PRIORITY[level] ?? "info"];
            send?.(msg, journalFields(identifier, [this.bindings(), given]));
            return;
          }
          const own = given && Object.fromEntries(Object.entries(given).filter(([k]) => !RESERVED.has(k)));
          if (own) method.call(this, own as never, msg as never);
          else method.call(this, msg as never);
        },
      },
    },
    { write },
  ) as unknown as Logger;
  if (!known)
    log.warn(`BOOTWARDEN_LOG_LEVEL: unknown level "${wanted}" (debug, info, warn, error); using info`);
  return log;
}
