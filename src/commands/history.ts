import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { TrialRecords } from "../actions/trials.js";
import { BootwardenError } from "../base/errors.js";
import { STATE_DIR, sysPath } from "../base/paths.js";
import { printable } from "../core/printable.js";
import { systemdTime } from "../core/timestamps.js";
import type { TrialRecord } from "../core/trial-log.js";

function table(log: TrialRecord[]): string {
  if (log.length === 0) return "no trial boots recorded";
  const rows = log.map((r) =>
    [
      Number.isNaN(Date.parse(r.startedAt)) ? r.startedAt : systemdTime(Date.parse(r.startedAt)),
      r.slot,
      r.try && r.of && r.of > 1 ? `${r.try}/${r.of}` : "", // as tryText: nothing for a trial of one try
      r.verdict ?? "(none)",
      r.by ?? "",
      r.reason ?? "",
    ].map(printable),
  );
  const head = ["STARTED", "SLOT", "TRY", "VERDICT", "BY", "REASON"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `bootwarden history [--json]`: the trial boots this machine has seen, oldest first. */
export async function history(json: boolean): Promise<number> {
  // The records carry reasons and live in a directory only root reads: say so, never "no trial boots recorded".
  const denied = await access(sysPath(STATE_DIR), constants.R_OK | constants.X_OK).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === "EACCES" || err.code === "EPERM",
  );
  if (denied)
    throw new BootwardenError(
      "cli",
      "permission",
      `history needs root: ${STATE_DIR} is readable by root only`,
    );
  const records = new TrialRecords(undefined, (problem) =>
    process.stderr.write(`bootwarden: ${printable(problem)}; showing what could be read\n`),
  );
  const log = await records.history();
  process.stdout.write(`${json ? JSON.stringify(log, null, 2) : table(log)}\n`);
  return 0;
}
