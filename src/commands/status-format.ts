import { VERSION } from "../base/version.js";
import type { StatusJson } from "../core/status-json.js";
import { systemdSpan, systemdTime } from "../core/timestamps.js";

const detailText = (d: Record<string, unknown>) =>
  Object.entries(d)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

/**
 * `bootwarden status` for people, from the same object as `--json` (through the daemon's API or from the files):
 * one state per slot, what the boot loader picks next, the assessment of a trial boot; a normal boot has no verdict.
 */
export function formatStatus(s: StatusJson): string[] {
  const lines = [`bootwarden ${VERSION}: ${s.backend} (${s.source})`];
  lines.push(`booted:     ${s.bootedSlot}${s.os ? ` (${s.os})` : ""}`);
  const tries = [
    s.try && s.try.of > 1 && `try ${s.try.n} of ${s.try.of}`, // as the journal: nothing for a trial of one try
    s.triesLeft !== undefined && `${s.triesLeft} ${s.triesLeft === 1 ? "try" : "tries"} left`,
  ].filter(Boolean);
  lines.push(
    s.trialBoot
      ? `state:      trial boot${tries.length ? ` (${tries.join(", ")})` : ""}: ${s.state}`
      : `state:      ${s.state} (normal boot: nothing to assess)`,
  );
  if (s.nextBoot)
    lines.push(
      `next boot:  ${s.nextBoot}${s.trialBoot && s.nextBoot !== s.bootedSlot ? " (as the boot state stands: this trial is not blessed yet)" : ""}`,
    );
  if (s.rolledBackFrom)
    lines.push(`rolled back: the trial of ${s.rolledBackFrom.slot} failed: ${s.rolledBackFrom.reason}`);
  for (const p of s.problems ?? []) lines.push(`problem:    ${p}`);
  if (s.daemonError) lines.push(`daemon:     could not assess this boot: ${s.daemonError}`);
  const a = s.assessment;
  if (a) {
    if (a.verdict)
      lines.push(`verdict:    ${a.verdict.verdict}: ${a.verdict.reason} (unhealthy: ${a.action})`);
    else if (a.deadline)
      lines.push(
        `deadline:   ${systemdTime(Date.parse(a.deadline.at))}; ${systemdSpan(a.deadline.secondsLeft * 1000)} left`,
      );
    lines.push("checks:");
    for (const c of a.checks)
      lines.push(`  ${c.status.padEnd(9)} ${c.critical ? "critical" : "wanted  "} ${c.id}  ${c.detail}`);
  }
  lines.push("slots:");
  const width = Math.max(...s.slots.map((x) => x.name.length), 4);
  for (const slot of s.slots) {
    const mark = slot.booted ? "*" : " ";
    const next = slot.name === s.nextBoot ? "next" : "    ";
    lines.push(
      `  ${mark} ${slot.name.padEnd(width)}  ${slot.state.padEnd(13)} ${next}  ${detailText(slot.detail)}`,
    );
  }
  for (const n of s.notes ?? []) lines.push(`note:       ${n}`);
  return lines;
}
