#!/usr/bin/env node
import { parseArgs } from "node:util";
import { BootwardenError, describeError } from "./base/errors.js";
import { VERSION } from "./base/version.js";
import { printable } from "./core/printable.js";

const USAGE = `bootwarden ${VERSION}
usage: bootwarden <command> [options]
  status        [--config FILE] [--json]   boot state, and the live assessment while the daemon runs
  mark-good     [--config FILE]            bless the booted slot (idempotent)
  mark-bad      [--config FILE]            make the booted slot unbootable so the boot loader falls back
  arm --slot SLOT [--tries N] [--force] [--config FILE]
                                           stage a trial boot (SLOT: PARTLABEL=... or PARTUUID=...)
  history       [--json]                   the trial boots this machine has seen: slot, start, verdict, who decided
  check-config  [--config FILE] [--apply]  validate the configuration; --apply writes the sandbox drop-ins it needs
  daemon        [--config FILE]            assess this boot (run by bootwarden.service)
  wait          [--slot SLOT] [--timeout T] [--config FILE]
                                           block until the verdict (on SLOT, when given): exit 0 blessed,
                                           1 unhealthy or rolled back, 2 timeout, 3 not booted into SLOT yet
  backstop      [--config FILE]            roll back a trial boot that has no verdict by the deadline
  fleetlock-release [--once] [--config FILE]
                                           release this machine's FleetLock reboot lock (retried until it is)
  version                                  print the version (also: --version)
exit status: 0 ok, 1 failure, 2 usage, 77 needs root, 78 invalid configuration`;

const OPTIONS = {
  config: { type: "string" },
  json: { type: "boolean" },
  slot: { type: "string" },
  tries: { type: "string" },
  force: { type: "boolean" },
  apply: { type: "boolean" },
  timeout: { type: "string" },
  once: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

type Option = keyof typeof OPTIONS;

const ALLOWED: Record<string, Option[]> = {
  status: ["config", "json"],
  history: ["json"],
  "mark-good": ["config"],
  "mark-bad": ["config"],
  arm: ["config", "slot", "tries", "force"],
  "check-config": ["config", "apply"],
  daemon: ["config"],
  wait: ["config", "slot", "timeout"],
  backstop: ["config"],
  "fleetlock-release": ["config", "once"],
  version: [],
};
/** Commands that write the boot state or the system's files: root's alone. */
const NEEDS_ROOT = new Set(["mark-good", "mark-bad", "arm", "daemon", "backstop"]);

const SEE_HELP = "see bootwarden --help";

/** The closest command to a mistyped one, by edit distance (mark -> mark-good, statsu -> status), if near. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  const prefixed = candidates.filter((c) => c.startsWith(`${word}-`) || word.startsWith(`${c}`));
  if (prefixed.length) return prefixed.join(" or ");
  const best = [...candidates].sort((a, b) => dist(word, a) - dist(word, b))[0];
  return best && dist(word, best) <= 2 ? best : undefined;
}

/** Node's parseArgs message, as one line of ours. */
function parserError(err: unknown): string {
  const text = describeError(err).split("\n")[0] ?? "";
  const unknown = /Unknown option '([^']+)'/.exec(text);
  if (unknown) return `unknown option ${unknown[1]}; ${SEE_HELP}`;
  const value = /Option '([^']+?)(?: <value>)?' argument missing/.exec(text);
  if (value) return `option ${value[1]} needs a value; ${SEE_HELP}`;
  return `${text.replace(/\. To specify .*$/, "")}; ${SEE_HELP}`;
}

const usage = (msg: string) => new BootwardenError("cli", "usage", msg);

/** Each command's module is loaded on demand: the D-Bus and watcher modules are most of a short command's start. */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(parserError(err));
  }
  const { values: v, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (v.version && !command) {
    process.stdout.write(`bootwarden ${VERSION}\n`);
    return 0;
  }
  if (v.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || v.help ? 0 : 2;
  }
  const allowed = ALLOWED[command];
  if (!allowed) {
    const near = nearest(command, Object.keys(ALLOWED));
    throw usage(
      `unknown command ${JSON.stringify(command)}${near ? `; did you mean ${near}?` : ""} (${SEE_HELP})`,
    );
  }
  if (extra.length) throw usage(`${command}: unexpected argument ${JSON.stringify(extra[0])}; ${SEE_HELP}`);
  for (const [k, val] of Object.entries(v)) {
    if (val !== undefined && k !== "help" && !allowed.includes(k as Option))
      throw usage(`${command}: option --${k} does not apply; ${SEE_HELP}`);
  }
  if (NEEDS_ROOT.has(command) && process.geteuid?.() !== 0)
    throw new BootwardenError("cli", "permission", `${command} needs root: it writes the boot state`);
  switch (command) {
    case "version":
      process.stdout.write(`bootwarden ${VERSION}\n`);
      return 0;
    case "status":
      return (await import("./commands/status.js")).status(v.config, v.json ?? false);
    case "history":
      return (await import("./commands/history.js")).history(v.json ?? false);
    case "mark-good":
    case "mark-bad":
      return (await import("./commands/mark.js")).mark(command === "mark-good" ? "good" : "bad", v.config);
    case "arm":
      return (await import("./commands/mark.js")).arm(v.config, v.slot, v.tries, v.force ?? false);
    case "check-config":
      return (await import("./commands/check-config.js")).checkConfig(v.config, v.apply ?? false);
    // Long-running: the bus and watchers hold the event loop, so leave explicitly with their status.
    case "daemon":
      return process.exit(await (await import("./commands/daemon.js")).runDaemon(v.config));
    case "backstop":
      return process.exit(await (await import("./commands/backstop.js")).runBackstop(v.config));
    case "fleetlock-release":
      return (await import("./commands/fleetlock.js")).fleetlockRelease(v.config, v.once ?? false);
    case "wait": {
      const out = await (await import("./commands/wait.js")).waitFor(v.config, v.slot, v.timeout);
      process.stdout.write(`${printable(out.text)}\n`);
      return out.code;
    }
    default:
      throw usage(`unknown command ${JSON.stringify(command)}`);
  }
}

// systemctl status, ps and the journal's _COMM then say bootwarden (daemon, verdict, backstop), not node or MainThread.
process.title = "bootwarden";
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bootwarden: ${printable(describeError(err))}\n`);
    // exit, not exitCode: a daemon that failed half-way still holds the bus and watchers open, and systemd must see
    // it die to restart it.
    process.exit(err instanceof BootwardenError ? err.exitCode : 1);
  },
);
