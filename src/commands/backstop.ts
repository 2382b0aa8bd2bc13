import { FileFlagWriter } from "../actions/flag-writer.js";
import type { FlagWriter, StatusStore } from "../actions/ports.js";
import { recordSafely, retryTrial, rollBack } from "../actions/rollback.js";
import { FileStatusStore } from "../actions/status-store.js";
import { type Clock, realClock } from "../base/clock.js";
import { createLogger, type Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import { createBackend } from "../bootstate/registry.js";
import type { BootState } from "../bootstate/types.js";
import { formatDuration } from "../config/duration.js";
import { loadConfigLenient } from "../config/load.js";
import { BACKSTOP_GRACE_MS, trialDeadline } from "../core/deadline.js";
import type { DaemonStatus } from "../core/status.js";
import type { SystemdConnection } from "../systemd/api.js";
import { connectSystemd } from "../systemd/bus.js";

/**
 * What the backstop does at the deadline, from the boot state as it is then (not from whether a verdict exists: a
 * verdict whose rollback could not be written is a verdict, and the slot is still armed). Pure.
 */
export function backstopPlan(
  now: BootState,
  status: DaemonStatus | undefined,
  action: "rollback" | "retry" | "report",
): { act: "nothing" | "report" | "rollback" | "retry"; why: string } {
  const v = status?.assessment?.verdict;
  if (now.state === "good") return { act: "nothing", why: `${now.bootedSlot} is blessed` };
  if (v && v.verdict !== "unhealthy")
    return { act: "nothing", why: `verdict ${v.verdict}: the blessing is the daemon's (it retries it)` };
  if (action === "report")
    return v
      ? { act: "nothing", why: "verdict unhealthy, reported (action: report)" }
      : { act: "report", why: "no verdict (action: report: nothing is marked)" };
  const why = v ? `verdict unhealthy (${v.reason}), not carried out` : "no verdict";
  // As the daemon does: a retry spends one of the boot loader's tries, the last try is rolled back.
  return { act: action === "retry" && now.triesLeft && now.triesLeft > 0 ? "retry" : "rollback", why };
}

/**
 * `bootwarden backstop`, started by bootwarden-backstop.timer early in every boot: on a trial boot it waits until the
 * deadline (plus a grace period), then reads the boot state again: a slot neither blessed nor carried into a
 * blessing by the daemon is rolled back here, however the daemon failed (dead, hung, never started, or its mark-bad
 * kept failing). Its mark-bad is retried until it works; only a slot with nothing to fall back to is never rebooted.
 */
export interface BackstopPorts {
  log: Logger;
  store: StatusStore;
  flags: FlagWriter;
  clock: Clock;
  systemd: () => SystemdConnection;
}

export function realBackstopPorts(): BackstopPorts {
  const log = createLogger("bootwarden-backstop");
  return {
    log,
    store: new FileStatusStore(undefined, undefined, (p) =>
      log.warn({ MESSAGE_ID: MessageId.recordDamaged }, `${p}; ignored`),
    ),
    flags: new FileFlagWriter(),
    clock: realClock,
    systemd: connectSystemd,
  };
}

export async function runBackstop(
  configPath?: string,
  p: BackstopPorts = realBackstopPorts(),
): Promise<number> {
  const { log, store, clock } = p;
  const { config, problem } = await loadConfigLenient(configPath);
  if (problem)
    log.warn(`configuration invalid (${problem}); using its boot state and deadline where they parse`);
  const backend = createBackend(config.bootState);
  const boot = await backend.read();
  if (!boot.trialBoot) {
    log.info(`normal boot of ${boot.bootedSlot}: nothing to do`);
    return 0;
  }
  const systemd = p.systemd();
  try {
    const userspaceUs = await systemd.userspaceStart();
    const wait = trialDeadline(userspaceUs, config.assessment.deadline) + BACKSTOP_GRACE_MS - clock.now();
    log.info(
      `trial boot of ${boot.bootedSlot}: backstop armed, acting in ${formatDuration(Math.max(0, wait))} unless the slot is blessed by then`,
    );
    // realClock re-arms waits longer than setTimeout's 24.8 days instead of firing at once.
    if (wait > 0) await new Promise<void>((resolve) => clock.after(wait, resolve));
    const now = await backend.read();
    const s = await store.read();
    const plan = backstopPlan(now, s, config.assessment.action);
    if (plan.act === "nothing") {
      log.info(`${plan.why}: nothing to do`);
      return 0;
    }
    const verdict = s?.assessment?.verdict;
    const reason = verdict
      ? `the daemon's unhealthy verdict was not carried out by the deadline: ${verdict.reason}`
      : `no verdict ${formatDuration(config.assessment.deadline)} after boot (daemon ${s ? s.phase : "never reported"}${s?.error ? `: ${s.error}` : ""})`;
    if (!verdict) {
      log.error(
        { MESSAGE_ID: MessageId.verdict, BOOTWARDEN_SLOT: boot.bootedSlot, BOOTWARDEN_VERDICT: "unhealthy" },
        `backstop: ${reason}`,
      );
      await p.flags
        .write("unhealthy", `backstop: ${reason}`)
        .catch((err: Error) => log.warn(`could not write the unhealthy flag: ${err.message}`));
    }
    if (plan.act === "report") return 0;
    const reboot = () => systemd.startUnit("reboot.target", "replace-irreversibly");
    const ctx = {
      slot: boot.bootedSlot,
      id: boot.bootedId,
      reason: `backstop: ${reason}`,
      by: "backstop" as const,
    };
    if (plan.act === "retry") {
      await recordSafely(log, "record the verdict in the history", () =>
        store.trialDecided(ctx, "unhealthy", ctx.reason, "backstop"),
      );
      await retryTrial({ reboot, log }, { ...ctx, try: s?.assessment?.try, left: now.triesLeft });
      return 0;
    }
    const rebooted = await rollBack({ backend, store, reboot, log, clock }, ctx);
    return rebooted ? 0 : 1;
  } finally {
    systemd.close();
  }
}
