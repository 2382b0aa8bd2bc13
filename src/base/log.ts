import { createRequire } from "node:module";

export type LogFields = Record<string, unknown>;
export type LogLevel = "debug" | "info" | "warn" | "error";
type LogMethod = { (msg: string): void; (fields: LogFields, msg: string): void };
export type Logger = Record<LogLevel, LogMethod>;
/** Where a record goes once its level passed: the call's own fields, nothing serialized on the way. */
export type LogSink = (level: LogLevel, msg: string, fields: LogFields | undefined) => void;

// The numbers pino and bunyan write: anything that read the JSON lines before reads them still.
export const LEVEL_NUMBER: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };
const PRIORITY: Record<LogLevel, string> = { debug: "debug", info: "info", warn: "warning", error: "err" };

/** A logger that drops records below `min` and hands the rest to `sink`. */
export function makeLogger(sink: LogSink, min: LogLevel = "info"): Logger {
  const method =
    (level: LogLevel): LogMethod =>
    (a: LogFields | string, b?: string) => {
      if (typeof a === "string") sink(level, a, undefined);
      else sink(level, b ?? "", a);
    };
  const drop: LogMethod = () => undefined;
  const out = {} as Logger;
  for (const l of Object.keys(LEVEL_NUMBER) as LogLevel[])
    out[l] = LEVEL_NUMBER[l] >= LEVEL_NUMBER[min] ? method(l) : drop;
  return out;
}

type JournalSend = Record<string, (message: string, fields: Record<string, unknown>) => void>;

/**
 * Under journald (JOURNAL_STREAM set) every record goes to journald natively, with its upper-case keys as journal
 * fields (MESSAGE_ID, BOOTWARDEN_SLOT, UNIT, ...) and the others as BOOTWARDEN_<KEY>.
 */
function journalSink(identifier: string, env: NodeJS.ProcessEnv): LogSink | undefined {
  if (!env.JOURNAL_STREAM) return undefined;
  let journald: JournalSend;
  try {
    journald = createRequire(import.meta.url)("systemd-journald") as JournalSend;
  } catch {
    return undefined;
  }
  return (level, msg, given) => {
    const fields: Record<string, unknown> = { SYSLOG_IDENTIFIER: identifier };
    if (given)
      for (const [k, v] of Object.entries(given)) {
        if (v === undefined) continue;
        fields[/^[A-Z_]+$/.test(k) ? k : `BOOTWARDEN_${k.toUpperCase()}`] =
          typeof v === "object" ? JSON.stringify(v) : v;
      }
    journald[PRIORITY[level]]?.(msg, fields);
  };
}

/** Elsewhere one JSON line per record on stdout, written synchronously so that nothing is lost at exit. */
function jsonLineSink(write: (line: string) => void): LogSink {
  return (level, msg, fields) =>
    write(`${JSON.stringify({ ...fields, level: LEVEL_NUMBER[level], time: Date.now(), msg })}\n`);
}

/**
 * Our own few lines instead of pino: the daemon logs a handful of records per boot, and pino cost 14 ms (Node 20) to
 * 23 ms (Node 24) of the start and about 8 MB of RSS just to be imported (its worker-thread transport included),
 * while under journald its serializer had to be bypassed anyway (README, Benchmarks).
 */
export function createLogger(
  identifier = "bootwarden",
  env = process.env,
  write: (line: string) => void = (line) => void process.stdout.write(line),
): Logger {
  const wanted = env.BOOTWARDEN_LOG_LEVEL ?? "info";
  const known = Object.hasOwn(LEVEL_NUMBER, wanted);
  const sink = journalSink(identifier, env) ?? jsonLineSink(write);
  const log = makeLogger(sink, known ? (wanted as LogLevel) : "info");
  if (!known)
    log.warn(`BOOTWARDEN_LOG_LEVEL: unknown level "${wanted}" (debug, info, warn, error); using info`);
  return log;
}
