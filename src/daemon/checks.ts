import type { Config } from "../config/schema.js";
import type { CheckDef } from "./assessment.js";

/** The checks a config declares, critical ones required, wanted ones not. */
export function checksFromConfig(a: Config["assessment"]): CheckDef[] {
  const defs: CheckDef[] = [];
  for (const [group, required] of [
    [a.critical, true],
    [a.wanted, false],
  ] as const) {
    for (const u of group.units) defs.push({ id: `unit:${u}`, kind: "unit", target: u, required });
    for (const f of group.flags) defs.push({ id: `flag:${f}`, kind: "flag", target: f, required });
    for (const f of group.failFlags)
      defs.push({ id: `failFlag:${f}`, kind: "failFlag", target: f, required });
  }
  if (a.noFailedUnits) defs.push({ id: "noFailedUnits", kind: "noFailedUnits", target: "", required: true });
  // The same unit listed twice (or critical and wanted) is one check: the stricter wins.
  const seen = new Map<string, CheckDef>();
  for (const d of defs) if (!seen.has(d.id)) seen.set(d.id, d);
  return [...seen.values()];
}
