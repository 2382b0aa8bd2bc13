import type { Config } from "../config/schema.js";
import type { CheckDef } from "./assessment.js";

/** The checks a config declares: critical ones decide the verdict, wanted ones only degrade it. */
export function checksFromConfig(a: Config["assessment"]): CheckDef[] {
  const defs: CheckDef[] = [];
  for (const [group, critical] of [
    [a.critical, true],
    [a.wanted, false],
  ] as const) {
    for (const u of group.units) defs.push({ id: `unit:${u}`, kind: "unit", target: u, critical });
    for (const f of group.flags) defs.push({ id: `flag:${f}`, kind: "flag", target: f, critical });
    for (const f of group.failFlags)
      defs.push({ id: `failFlag:${f}`, kind: "failFlag", target: f, critical });
  }
  if (a.noFailedUnits) defs.push({ id: "noFailedUnits", kind: "noFailedUnits", target: "", critical: true });
  // The same unit listed twice (or critical and wanted) is one check: the stricter wins.
  const seen = new Map<string, CheckDef>();
  for (const d of defs) if (!seen.has(d.id)) seen.set(d.id, d);
  return [...seen.values()];
}
