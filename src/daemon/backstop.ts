import { setTimeout as sleep } from "node:timers/promises";
import dbus from "dbus-next";
import { createBackend } from "../bootstate/registry.js";
import { monotonicMs } from "../clock.js";
import { formatDuration } from "../config/duration.js";
import { loadConfigLenient } from "../config/load.js";
import { describeError } from "../errors.js";
import { MessageId } from "../events.js";
import { createLogger } from "../log.js";
import { SystemdClient } from "../systemd/bus.js";
import { writeFlag } from "./actions.js";
import { readStatus, writeLastTrial } from "./store.js";

const GRACE_MS = 5000; // the daemon acts at the deadline; give it this long before acting in its place

/**
 * `bootwarden deadline`, started by bootwarden-deadline.timer early in every boot: on a trial boot it waits until the
 * deadline (plus a grace period) and, if no verdict exists by then because the daemon died, hung or never started,
 * marks the slot bad and reboots. On a normal boot, or once a verdict exists, it does nothing.
 */
export async function runBackstop(configPath?: string): Promise<number> {
  const log = createLogger("bootwarden-deadline");
  const { config, problem } = await loadConfigLenient(configPath);
  if (problem)
    log.warn(`configuration invalid (${problem}); using its boot state and deadline where they parse`);
  const backend = createBackend(config.bootState);
  const boot = await backend.read();
  if (!boot.trialBoot) {
    log.info(`normal boot of ${boot.bootedSlot}: nothing to do`);
    return 0;
  }
  const bus = dbus.systemBus();
  try {
    const systemd = new SystemdClient(bus);
    const userspaceUs = BigInt((await systemd.managerProperty("UserspaceTimestampMonotonic")) as bigint);
    const deadline = Number(userspaceUs / 1000n) + config.assessment.deadline;
    const wait = deadline + GRACE_MS - monotonicMs();
    log.info(
      `trial boot of ${boot.bootedSlot}: backstop armed, acting in ${formatDuration(Math.max(0, wait))} if no verdict exists`,
    );
    if (wait > 0) await sleep(wait);
    const s = await readStatus();
    if (s?.assessment?.verdict) {
      log.info(`verdict exists (${s.assessment.verdict.verdict}): nothing to do`);
      return 0;
    }
    const reason = `no verdict ${formatDuration(config.assessment.deadline)} after boot (daemon ${s ? s.phase : "never reported"}${s?.error ? `: ${s.error}` : ""})`;
    log.error(
      { MESSAGE_ID: MessageId.verdict, BOOTWARDEN_SLOT: boot.bootedSlot, BOOTWARDEN_VERDICT: "unhealthy" },
      `backstop: ${reason}`,
    );
    await writeFlag("unhealthy", `backstop: ${reason}`);
    if (config.assessment.action === "report") return 0;
    try {
      const r = await backend.markBad();
      log.warn(
        { MESSAGE_ID: MessageId.markedBad, BOOTWARDEN_SLOT: boot.bootedSlot },
        `backstop: ${r.message}`,
      );
    } catch (err) {
      log.error(`backstop: could not mark ${boot.bootedSlot} bad (${describeError(err)}); not rebooting`);
      return 1;
    }
    await writeLastTrial({
      slot: boot.bootedSlot,
      verdict: "unhealthy",
      reason: `backstop: ${reason}`,
      at: new Date().toISOString(),
    });
    log.warn(
      { MESSAGE_ID: MessageId.rebootRequested, BOOTWARDEN_SLOT: boot.bootedSlot },
      "backstop: rebooting",
    );
    await systemd.startUnit("reboot.target", "replace-irreversibly");
    return 0;
  } finally {
    bus.disconnect();
  }
}
