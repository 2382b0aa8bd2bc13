import dbus from "dbus-next";
import { FileFlagWriter } from "../actions/flag-writer.js";
import { rollBack } from "../actions/rollback.js";
import { FileStatusStore } from "../actions/status-store.js";
import { createLogger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import { createBackend } from "../bootstate/registry.js";
import { formatDuration } from "../config/duration.js";
import { loadConfigLenient } from "../config/load.js";
import { BACKSTOP_GRACE_MS, trialDeadline } from "../core/deadline.js";
import { realClock } from "../daemon/ports.js";
import { SystemdClient } from "../systemd/bus.js";

/**
 * `bootwarden backstop`, started by bootwarden-backstop.timer early in every boot: on a trial boot it waits until the
 * deadline (plus a grace period) and, if no verdict exists by then because the daemon died, hung or never started,
 * rolls the trial back. On a normal boot, or once a verdict exists, it does nothing.
 */
export async function runBackstop(configPath?: string): Promise<number> {
  const log = createLogger("bootwarden-backstop");
  const { config, problem } = await loadConfigLenient(configPath);
  if (problem)
    log.warn(`configuration invalid (${problem}); using its boot state and deadline where they parse`);
  const backend = createBackend(config.bootState);
  const boot = await backend.read();
  if (!boot.trialBoot) {
    log.info(`normal boot of ${boot.bootedSlot}: nothing to do`);
    return 0;
  }
  const store = new FileStatusStore();
  const bus = dbus.systemBus();
  try {
    const systemd = new SystemdClient(bus);
    const userspaceUs = BigInt((await systemd.managerProperty("UserspaceTimestampMonotonic")) as bigint);
    const wait = trialDeadline(userspaceUs, config.assessment.deadline) + BACKSTOP_GRACE_MS - realClock.now();
    log.info(
      `trial boot of ${boot.bootedSlot}: backstop armed, acting in ${formatDuration(Math.max(0, wait))} if no verdict exists`,
    );
    // realClock re-arms waits longer than setTimeout's 24.8 days instead of firing at once.
    if (wait > 0) await new Promise<void>((resolve) => realClock.after(wait, resolve));
    const s = await store.read();
    if (s?.assessment?.verdict) {
      log.info(`verdict exists (${s.assessment.verdict.verdict}): nothing to do`);
      return 0;
    }
    const reason = `no verdict ${formatDuration(config.assessment.deadline)} after boot (daemon ${s ? s.phase : "never reported"}${s?.error ? `: ${s.error}` : ""})`;
    log.error(
      { MESSAGE_ID: MessageId.verdict, BOOTWARDEN_SLOT: boot.bootedSlot, BOOTWARDEN_VERDICT: "unhealthy" },
      `backstop: ${reason}`,
    );
    await new FileFlagWriter().write("unhealthy", `backstop: ${reason}`);
    if (config.assessment.action === "report") return 0;
    const rebooted = await rollBack(
      {
        backend,
        store,
        reboot: () => systemd.startUnit("reboot.target", "replace-irreversibly"),
        log,
      },
      { slot: boot.bootedSlot, reason: `backstop: ${reason}`, by: "backstop" },
    );
    return rebooted ? 0 : 1;
  } finally {
    bus.disconnect();
  }
}
