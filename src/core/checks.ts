import type { Config } from "../config/schema.js";
import type { CheckDef } from "./assessment.js";
import { commandLabel, commandSpec, lineArgv, scriptArgv, TransientNames } from "./commands.js";

/**
 * A script found in a check or hook directory: its path as listed (it names the check) and the path it resolves to,
 * which is what runs, so a link re-pointed after the trust check changes nothing.
 */
export interface Script {
  file: string;
  exec: string;
}

/** The scripts found in each group's `directories` (listing them is I/O: trust/scripts.ts). */
export interface FoundScripts {
  critical: Script[];
  wanted: Script[];
}

/** The checks a config declares: critical ones decide the verdict, wanted ones only degrade it. */
export function checksFromConfig(
  a: Config["assessment"],
  scripts: FoundScripts = { critical: [], wanted: [] },
): CheckDef[] {
  const defs: CheckDef[] = [];
  const names = new TransientNames();
  for (const [group, critical, found] of [
    [a.critical, true, scripts.critical],
    [a.wanted, false, scripts.wanted],
  ] as const) {
    for (const u of group.units) defs.push({ id: `unit:${u}`, kind: "unit", target: u, critical });
    for (const f of group.flags) defs.push({ id: `flag:${f}`, kind: "flag", target: f, critical });
    for (const f of group.failFlags)
      defs.push({ id: `failFlag:${f}`, kind: "failFlag", target: f, critical });
    const commands = [...group.commands.map((c) => (typeof c === "string" ? { run: c } : c)), ...found];
    for (const c of commands) {
      const argv = "file" in c ? scriptArgv(c.exec) : lineArgv(c.run);
      const spec =
        "file" in c
          ? commandSpec(argv, a.commandTimeout, a.network)
          : commandSpec(argv, c.timeout ?? a.commandTimeout, c.network ?? a.network, c.interval);
      const id = `command:${"file" in c ? c.file : c.run}`;
      if (defs.some((d) => d.id === id)) continue;
      const label = commandLabel("file" in c ? scriptArgv(c.file) : argv);
      const target = names.name(`check-${critical ? "critical" : "wanted"}`, label);
      defs.push({ id, kind: "command", target, critical, command: spec });
    }
  }
  if (a.noFailedUnits) defs.push({ id: "noFailedUnits", kind: "noFailedUnits", target: "", critical: true });
  // The same unit listed twice (or critical and wanted) is one check: the stricter wins.
  const seen = new Map<string, CheckDef>();
  for (const d of defs) if (!seen.has(d.id)) seen.set(d.id, d);
  return [...seen.values()];
}
