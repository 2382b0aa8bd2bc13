#!/usr/bin/env node
import { parseArgs } from "node:util";
import { createBackend } from "./bootstate/registry.js";
import { monotonicMs } from "./clock.js";
import { loadConfig } from "./config/load.js";
import { readStatus } from "./daemon/store.js";
import { BootwardenError, describeError } from "./errors.js";
import { formatAssessment, formatBootState } from "./status-format.js";

const USAGE = `usage: bootwarden <command> [options]
  status        [--config FILE] [--json]   boot state, and the live assessment while the daemon runs
  mark-good     [--config FILE]            bless the booted slot (idempotent)
  mark-bad      [--config FILE]            make the booted slot unbootable so the bootloader falls back
  arm --slot SLOT [--tries N] [--config FILE]   stage a trial boot (SLOT: PARTLABEL=... or PARTUUID=...)
  check-config  [--config FILE]            validate the configuration and exit
  daemon        [--config FILE]            assess this boot (run by bootwarden.service)
  wait                                     block until the daemon's verdict; exit 0 healthy/degraded, 1 unhealthy
  deadline      [--config FILE]            backstop: roll back a trial boot that has no verdict by the deadline`;

const OPTIONS = {
  config: { type: "string" },
  json: { type: "boolean" },
  slot: { type: "string" },
  tries: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Option = keyof typeof OPTIONS;

const ALLOWED: Record<string, Option[]> = {
  status: ["config", "json"],
  "mark-good": ["config"],
  "mark-bad": ["config"],
  arm: ["config", "slot", "tries"],
  "check-config": ["config"],
  daemon: ["config"],
  wait: [],
  deadline: ["config"],
};

function parseTries(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new BootwardenError(`--tries ${v}: must be a whole number`);
  return Number(v);
}

async function status(configPath: string | undefined, json: boolean): Promise<number> {
  const { config } = await loadConfig(configPath);
  const boot = await createBackend(config.bootState).read();
  const daemon = await readStatus();
  if (json) {
    const live = daemon?.assessment
      ? {
          ...daemon,
          timeLeftMs: daemon.assessment.verdict ? null : daemon.assessment.deadline - monotonicMs(),
        }
      : daemon;
    process.stdout.write(`${JSON.stringify({ ...boot, daemon: live ?? null })}\n`);
  } else {
    const lines = formatBootState(boot);
    if (daemon) lines.push(...formatAssessment(daemon, monotonicMs()));
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new BootwardenError(`${(err as Error).message.split("\n")[0]}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const allowed = ALLOWED[command];
  if (!allowed) throw new BootwardenError(`unknown command ${JSON.stringify(command)}\n${USAGE}`, 2);
  if (extra.length)
    throw new BootwardenError(`${command}: unexpected argument ${JSON.stringify(extra[0])}`, 2);
  for (const [k, v] of Object.entries(values)) {
    if (v !== undefined && k !== "help" && !allowed.includes(k as Option)) {
      throw new BootwardenError(`${command}: option --${k} does not apply`, 2);
    }
  }
  switch (command) {
    case "status":
      return status(values.config, values.json ?? false);
    // Long-running: the bus and watchers hold the event loop, so leave explicitly with their status. Loaded on
    // demand: the D-Bus and watcher modules are most of the start-up time of the short commands.
    case "daemon": {
      const { runDaemon } = await import("./daemon/daemon.js");
      process.exit(await runDaemon(values.config));
      break;
    }
    case "deadline": {
      const { runBackstop } = await import("./daemon/backstop.js");
      process.exit(await runBackstop(values.config));
      break;
    }
    case "wait": {
      const { waitForVerdict } = await import("./daemon/wait.js");
      const out = await waitForVerdict();
      process.stdout.write(`${out.text}\n`);
      return out.code;
    }
  }
  const { config, files } = await loadConfig(values.config);
  if (command === "check-config") {
    process.stdout.write(
      `config OK (${files.join(", ") || "built-in defaults"}): backend ${config.bootState.backend}\n`,
    );
    return 0;
  }
  const backend = createBackend(config.bootState);
  const r =
    command === "mark-good"
      ? await backend.markGood()
      : command === "mark-bad"
        ? await backend.markBad()
        : await backend.arm(values.slot, parseTries(values.tries));
  process.stdout.write(`${r.message}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bootwarden: ${describeError(err)}\n`);
    // exit, not exitCode: a daemon that failed half-way still holds the bus and watchers open, and systemd must see
    // it die to restart it.
    process.exit(err instanceof BootwardenError ? err.exitCode : 1);
  },
);
