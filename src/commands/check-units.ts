import { errnoText } from "../base/errors.js";
import type { Config } from "../config/schema.js";
import type { SystemdConnection } from "../systemd/api.js";

export interface UnitFindings {
  errors: string[];
  warnings: string[];
}

/** What a LoadState says of a unit a trial waits for; undefined when it can run. */
function problem(state: string): string | undefined {
  if (state === "loaded") return undefined;
  if (state === "not-found") return "no such unit (LoadState=not-found)";
  if (state === "masked") return "masked: it never starts (LoadState=masked)";
  return `systemd cannot load it (LoadState=${state || "unknown"})`;
}

/**
 * `check-config`'s look at the critical and wanted units through systemd (LoadUnit): a critical unit that cannot
 * start makes every trial unhealthy (an error); a wanted one makes every trial degraded (a warning). When systemd
 * cannot be asked (a chroot, an image build), the check is skipped and a warning says so.
 */
export async function checkUnits(
  assessment: Pick<Config["assessment"], "critical" | "wanted">,
  connect: () => SystemdConnection,
): Promise<UnitFindings> {
  const out: UnitFindings = { errors: [], warnings: [] };
  const lists = [
    ["critical", assessment.critical.units],
    ["wanted", assessment.wanted.units],
  ] as const;
  if (lists.every(([, units]) => units.length === 0)) return out;
  let systemd: SystemdConnection | undefined;
  try {
    systemd = connect();
    for (const [kind, units] of lists) {
      for (const name of units) {
        const { unit } = await systemd.readUnit(name, await systemd.loadUnit(name));
        const why = problem(String(unit.LoadState ?? ""));
        if (!why) continue;
        const effect =
          kind === "critical" ? "every trial would be unhealthy" : "every trial would be degraded";
        (kind === "critical" ? out.errors : out.warnings).push(
          `assessment.${kind}.units: ${name}: ${why}; ${effect}`,
        );
      }
    }
  } catch (err) {
    out.warnings.push(
      `systemd is not reachable over the system bus (${errnoText(err)}): the critical and wanted units were not checked`,
    );
  } finally {
    systemd?.close();
  }
  return out;
}
