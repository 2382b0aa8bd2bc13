#!/usr/bin/env node
import { parseArgs } from "node:util";
import { createBackend } from "./bootstate/registry.js";
import type { BootState } from "./bootstate/types.js";
import { loadConfig } from "./config/load.js";
import { BootwardenError, describeError } from "./errors.js";

const USAGE = `usage: bootwarden <command> [options]
  status        [--config FILE] [--json]   boot state: backend, booted slot, trial boot, tries left, slots
  mark-good     [--config FILE]            bless the booted slot (idempotent)
  mark-bad      [--config FILE]            make the booted slot unbootable so the bootloader falls back
  arm --slot SLOT [--tries N] [--config FILE]   stage a trial boot (SLOT: PARTLABEL=... or PARTUUID=...)
  check-config  [--config FILE]            validate the configuration and exit`;

const OPTIONS = {
  config: { type: "string" },
  json: { type: "boolean" },
  slot: { type: "string" },
  tries: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

const ALLOWED: Record<string, (keyof Values)[]> = {
  status: ["config", "json"],
  "mark-good": ["config"],
  "mark-bad": ["config"],
  arm: ["config", "slot", "tries"],
  "check-config": ["config"],
};

export function formatStatus(s: BootState): string {
  const lines = [
    `backend:     ${s.backend} (${s.source})`,
    `booted slot: ${s.bootedSlot}`,
    `trial boot:  ${s.trialBoot ? `yes${s.triesLeft !== null ? `, ${s.triesLeft} tries left` : ""}` : "no"}`,
    `state:       ${s.state}`,
  ];
  if (s.rolledBackFrom)
    lines.push(`rolled back: trial of ${s.rolledBackFrom.slot} failed (${s.rolledBackFrom.reason})`);
  lines.push("slots:");
  for (const slot of s.slots) {
    const detail = Object.entries(slot.detail)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    lines.push(`  ${slot.booted ? "*" : " "} ${slot.name.padEnd(24)} ${slot.state.padEnd(13)} ${detail}`);
  }
  return lines.join("\n");
}

function parseTries(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new BootwardenError(`--tries ${v}: must be a whole number`);
  return Number(v);
}

export async function main(argv: string[]): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
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
    if (v !== undefined && k !== "help" && !allowed.includes(k as keyof Values)) {
      throw new BootwardenError(`${command}: option --${k} does not apply`, 2);
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
  switch (command) {
    case "status": {
      const state = await backend.read();
      process.stdout.write(values.json ? `${JSON.stringify(state)}\n` : `${formatStatus(state)}\n`);
      return 0;
    }
    case "mark-good":
    case "mark-bad": {
      const r = command === "mark-good" ? await backend.markGood() : await backend.markBad();
      process.stdout.write(`${r.message}\n`);
      return 0;
    }
    case "arm": {
      const r = await backend.arm(values.slot, parseTries(values.tries));
      process.stdout.write(`${r.message}\n`);
      return 0;
    }
  }
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bootwarden: ${describeError(err)}\n`);
    process.exitCode = err instanceof BootwardenError ? err.exitCode : 1;
  },
);
