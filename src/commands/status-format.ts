import type { BootState } from "../bootstate/types.js";
import { formatDuration } from "../config/duration.js";
import type { DaemonStatus } from "../core/status.js";

export function formatBootState(s: BootState): string[] {
  const lines = [
    `backend:     ${s.backend} (${s.source})`,
    `booted slot: ${s.bootedSlot}`,
    `trial boot:  ${s.trialBoot ? `yes${s.triesLeft != null ? `, ${s.triesLeft} tries left` : ""}` : "no"}`,
    `state:       ${s.state}`,
  ];
  for (const p of s.problems ?? []) lines.push(`problem:     ${p}`);
  if (s.rolledBackFrom)
    lines.push(`rolled back: trial of ${s.rolledBackFrom.slot} failed (${s.rolledBackFrom.reason})`);
  lines.push("slots:");
  for (const slot of s.slots) {
    const detail = Object.entries(slot.detail)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    lines.push(`  ${slot.booted ? "*" : " "} ${slot.name.padEnd(24)} ${slot.state.padEnd(13)} ${detail}`);
  }
  return lines;
}

export function formatAssessment(d: DaemonStatus, nowMs: number): string[] {
  const lines = [`daemon:      ${d.phase} (pid ${d.pid}, updated ${d.updatedAt})`];
  if (d.error) lines.push(`error:       ${d.error}`);
  const a = d.assessment;
  if (!a) return lines;
  if (a.try) lines.push(`try:         ${a.try.n} of ${a.try.of} (unhealthy: ${a.action})`);
  if (a.verdict) lines.push(`verdict:     ${a.verdict.verdict}: ${a.verdict.reason}`);
  else lines.push(`deadline:    ${formatDuration(a.deadline - nowMs)} left`);
  if (a.checks.length) lines.push("checks:");
  for (const c of a.checks) {
    lines.push(
      `  ${c.status.padEnd(9)} ${c.def.critical ? "critical" : "wanted  "} ${c.def.id}  ${c.detail}`,
    );
  }
  for (const n of d.notes) lines.push(`note:        ${n}`);
  return lines;
}
