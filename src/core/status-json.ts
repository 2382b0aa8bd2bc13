import type { BootState, SlotStatus } from "../bootstate/types.js";
import { compact } from "./api-view.js";
import type { DaemonStatus } from "./status.js";

/**
 * `status --json`, version 1 (schema/status.schema.json, from src/config/status-schema.ts): the boot state as the
 * boot loader keeps it, and this boot's assessment as the daemon reports it. No internal field (the daemon's action
 * records, tallies, monotonic times): the deadline as a wall-clock time and the seconds left. Keys whose value is
 * unknown are left out, so the output is the same through the D-Bus API as from the files. Pure.
 */
export interface StatusJson {
  version: 1;
  backend: BootState["backend"];
  source: string;
  bootedSlot: string;
  /** The running OS (os-release's PRETTY_NAME): added by `status`, which runs on the booted slot. */
  os?: string;
  trialBoot: boolean;
  /** The booted slot's state: the same word as its row in `slots`. */
  state: BootState["state"];
  triesLeft?: number;
  /** Boot attempts already made, this one included, where the boot loader records them (systemd-boot's -DONE). */
  triesDone?: number;
  try?: { n: number; of: number };
  nextBoot?: string;
  rolledBackFrom?: { slot: string; reason: string };
  problems?: string[];
  slots: SlotStatus[];
  assessment?: {
    status: "assessing" | "decided";
    action: "rollback" | "retry" | "report";
    deadline?: { at: string; secondsLeft: number };
    verdict?: { verdict: string; reason: string };
    checks: { id: string; kind: string; critical: boolean; status: string; detail: string }[];
  };
  /** What happened after the verdict, or on a normal boot (a unit that failed later, a hook that failed...). */
  notes?: string[];
  /** The daemon could not assess this boot (an invalid configuration, an error); the backstop still acts. */
  daemonError?: string;
}

export function statusJson(boot: BootState, daemon: DaemonStatus | undefined, now: number): StatusJson {
  // After our own rollback the boot loader's state may not show it (GPT: the failed slot's priority is 0); the
  // daemon of this boot read it from our record.
  const ours = daemon?.slot === boot.bootedSlot ? daemon.rolledBackFrom : undefined;
  const a = daemon?.trialBoot ? daemon.assessment : undefined;
  const deadline =
    a && !a.verdict && daemon?.deadlineRealtimeMs !== undefined
      ? {
          at: new Date(daemon.deadlineRealtimeMs).toISOString(),
          secondsLeft: Math.max(0, Math.round((a.deadline - now) / 1000)),
        }
      : undefined;
  return compact({
    version: 1,
    backend: boot.backend,
    source: boot.source,
    bootedSlot: boot.bootedSlot,
    trialBoot: boot.trialBoot,
    state: boot.state,
    triesLeft: boot.triesLeft,
    triesDone: boot.triesDone,
    try: a?.try ? { n: a.try.n, of: a.try.of } : undefined,
    nextBoot: boot.nextBoot,
    rolledBackFrom: boot.rolledBackFrom ?? ours,
    problems: boot.problems?.length ? boot.problems : undefined,
    // One state per slot: the booted one's row says what the header says (a trial is indeterminate, not yet bad).
    slots: boot.slots.map((s) => (s.booted ? { ...s, state: boot.state } : s)),
    assessment: a && {
      status: a.verdict ? "decided" : "assessing",
      action: a.action,
      deadline,
      verdict: a.verdict && { verdict: a.verdict.verdict, reason: a.verdict.reason },
      checks: a.checks.map((c) => ({
        id: c.def.id,
        kind: c.def.kind,
        critical: c.def.critical,
        status: c.status,
        detail: c.detail,
      })),
    },
    notes: daemon?.notes.length ? daemon.notes : undefined,
    daemonError: daemon?.error,
  }) as StatusJson;
}
