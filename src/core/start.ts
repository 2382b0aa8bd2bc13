import type { BootState } from "../bootstate/types.js";
import type { Config } from "../config/schema.js";
import {
  type ActionEffect,
  type Assessment,
  type CheckDef,
  isAction,
  NORMAL_BOOT,
  newAssessment,
  tallyOf,
  verdictEffects,
} from "./assessment.js";
import { trialDeadline } from "./deadline.js";
import type { DaemonStatus } from "./status.js";
import type { TryCount } from "./trial-log.js";

export interface StartPlan {
  /** normal: not a trial boot; trial: a new assessment; resume: this boot's assessment, from before a restart. */
  mode: "normal" | "trial" | "resume";
  assessment: Assessment;
  status: DaemonStatus;
  /** Actions to carry out at once (those already done are skipped by the runner). */
  actions: ActionEffect[];
}

/**
 * How a daemon start continues. /run is empty at every boot, so a status file there for the booted slot is this
 * boot's: it is resumed even when the boot state no longer looks like a trial (after the slot was marked bad and
 * before the reboot), so a crash between mark-bad and reboot still ends in the reboot, and never in "normal boot".
 */
export function planStart(
  boot: BootState,
  prior: DaemonStatus | undefined,
  defs: CheckDef[],
  cfg: Config["assessment"],
  userspaceMonotonicUs: bigint,
  now: number,
  pid: number,
  /** Which try this boot is; the wall clock now (ms since the epoch), for the deadline as a time of day. */
  extra: { tries?: TryCount; wallNow?: number } = {},
): StartPlan {
  const same = prior && prior.slot === boot.bootedSlot ? prior : undefined;
  const base = {
    slot: boot.bootedSlot,
    backend: boot.backend,
    triesLeft: boot.triesLeft,
    updatedAt: "",
    pid,
    notes: same?.notes ?? [],
    done: same?.done ?? [],
    ...(same?.rolledBackFrom ? { rolledBackFrom: same.rolledBackFrom } : {}),
  };
  if (same?.assessment && (same.phase === "assessing" || same.phase === "verdict")) {
    // The file is the daemon's own, but its counts are not trusted over its checks.
    const a = { ...same.assessment, tally: tallyOf(same.assessment.checks) };
    const v = a.verdict;
    return {
      mode: "resume",
      assessment: a,
      status: {
        ...base,
        phase: v ? "verdict" : "assessing",
        trialBoot: true,
        deadlineMonotonicMs: a.deadline,
      },
      actions: v ? verdictEffects(a, v.verdict, v.reason).filter(isAction) : [],
    };
  }
  if (!boot.trialBoot) {
    const a = newAssessment(boot.bootedSlot, defs, now, cfg.settle, cfg.action);
    a.verdict = { verdict: "healthy", reason: NORMAL_BOOT, at: now };
    return {
      mode: "normal",
      assessment: a,
      status: { ...base, phase: "normal", trialBoot: false },
      actions: [{ type: "flag", which: "healthy", reason: NORMAL_BOOT }],
    };
  }
  const deadline = trialDeadline(userspaceMonotonicUs, cfg.deadline);
  // A retry needs a try left to spend: on the last one (or a boot loader that does not count) it is a rollback.
  const action = cfg.action === "retry" && !(boot.triesLeft && boot.triesLeft > 0) ? "rollback" : cfg.action;
  return {
    mode: "trial",
    assessment: { ...newAssessment(boot.bootedSlot, defs, deadline, cfg.settle, action), try: extra.tries },
    status: {
      ...base,
      phase: "assessing",
      trialBoot: true,
      deadlineMonotonicMs: deadline,
      ...(extra.wallNow === undefined ? {} : { deadlineRealtimeMs: extra.wallNow + deadline - now }),
    },
    actions: [],
  };
}
