import { bootVerdict, type DaemonStatus } from "./status.js";

/** What the metrics say, all of it taken from the status the daemon saved (and the persistent counters). */
export interface MetricsInput {
  version: string;
  status: DaemonStatus;
  rollbacks: number;
  blessings: number;
  /** When the last verdict on a trial was reached (ms since the epoch), if any. */
  lastVerdictAt?: number;
}

const VERDICTS = ["pending", "healthy", "degraded", "unhealthy"] as const;

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export const labelValue = (v: string): string =>
  v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

const labels = (l: Record<string, string>): string =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${labelValue(v)}"`)
    .join(",")}}`;

/** The verdict of this boot as the metrics name it: a normal boot is healthy, no verdict yet is pending. */
export function verdictOf(s: DaemonStatus): (typeof VERDICTS)[number] | undefined {
  if (s.phase === "config-error" || s.phase === "error") return undefined;
  return bootVerdict(s)?.verdict ?? "pending";
}

/**
 * node-exporter's textfile format: no timestamps (a sample with one makes node-exporter drop the whole file), base
 * units, `_total` counters, an `_info` gauge for the labels that describe the machine. Pure: the same status gives the
 * same text, so an unchanged state is never rewritten.
 */
export function renderMetrics(m: MetricsInput): string {
  const s = m.status;
  const out: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, samples: [string, number][]) => {
    if (samples.length === 0) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) out.push(`${name}${l} ${v}`);
  };
  metric("bootwarden_info", "gauge", "bootwarden's version, boot state backend and booted slot.", [
    [labels({ version: m.version, backend: s.backend ?? "", booted_slot: s.slot ?? "" }), 1],
  ]);
  metric(
    "bootwarden_up",
    "gauge",
    "1 when the daemon assesses this boot, 0 when it cannot (see bootwarden status).",
    [["", s.phase === "config-error" || s.phase === "error" ? 0 : 1]],
  );
  metric("bootwarden_trial_boot", "gauge", "1 when this boot is a trial boot of a new slot.", [
    ["", s.trialBoot ? 1 : 0],
  ]);
  const v = verdictOf(s);
  metric(
    "bootwarden_verdict",
    "gauge",
    "The verdict on this boot: 1 for the current one (pending until there is one; a normal boot is healthy).",
    v ? VERDICTS.map((x) => [labels({ verdict: x }), x === v ? 1 : 0]) : [],
  );
  metric(
    "bootwarden_tries_left",
    "gauge",
    "Boot attempts the boot loader still grants the trial's slot.",
    s.trialBoot && s.triesLeft !== undefined && s.triesLeft !== null ? [["", s.triesLeft]] : [],
  );
  metric(
    "bootwarden_trial_deadline_timestamp_seconds",
    "gauge",
    "When the trial's verdict is due at the latest.",
    s.trialBoot && s.deadlineRealtimeMs !== undefined ? [["", Math.round(s.deadlineRealtimeMs / 1000)]] : [],
  );
  metric(
    "bootwarden_check_up",
    "gauge",
    "1 when a check of this boot's assessment holds.",
    s.trialBoot
      ? (s.assessment?.checks ?? []).map((c) => [
          labels({ check: c.def.id, kind: c.def.kind, critical: String(c.def.critical) }),
          c.status === "passed" ? 1 : 0,
        ])
      : [],
  );
  metric("bootwarden_rollbacks_total", "counter", "Trial boots rolled back on this machine.", [
    ["", m.rollbacks],
  ]);
  metric("bootwarden_blessings_total", "counter", "Trial boots blessed on this machine.", [
    ["", m.blessings],
  ]);
  metric(
    "bootwarden_last_verdict_timestamp_seconds",
    "gauge",
    "When the last verdict on a trial boot was reached.",
    m.lastVerdictAt !== undefined ? [["", Math.round(m.lastVerdictAt / 1000)]] : [],
  );
  return `${out.join("\n")}\n`;
}
