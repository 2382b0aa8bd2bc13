import { DeploymentRollback } from "../actions/deployment-rollback.js";
import { TransientHookRunner } from "../actions/hooks.js";
import { announceNormalBoot } from "../actions/normal-boot.js";
import { type Publisher, publishedStore } from "../actions/published-store.js";
import { TrialRecords } from "../actions/trials.js";
import { writeAtomic } from "../base/atomic-write.js";
import { describeError } from "../base/errors.js";
import { MessageId } from "../base/message-ids.js";
import { sysPath } from "../base/paths.js";
import { createBackend } from "../bootstate/registry.js";
import type { BootState } from "../bootstate/types.js";
import { writePath, writeProblem } from "../bootstate/writable.js";
import { loadConfigFast } from "../config/cache.js";
import type { Config } from "../config/schema.js";
import type { DaemonStatus } from "../core/status.js";
import { Daemon } from "../daemon/daemon.js";
import { enforceFlagTrust } from "../trust/flags.js";
import { findScripts } from "../trust/scripts.js";
import { ApiLink } from "./api.js";
import { type DaemonPorts, damaged, realPorts } from "./daemon-ports.js";
import { withFleetLock } from "./fleetlock.js";
import { sandboxAdvice } from "./sandbox.js";

export const EXIT_CONFIG = 78; // EX_CONFIG: the unit's RestartPreventExitStatus, so a bad config does not loop

/**
 * With an invalid config a trial boot is left to the backstop; but a normal boot (the known-good slot) still gets its
 * healthy flag, so units gated on it run, as long as the boot state itself can be read.
 */
async function normalBootDespiteConfig(configPath: string | undefined, p: DaemonPorts) {
  try {
    const { loadConfigLenient } = await import("../config/load.js");
    const { config } = await loadConfigLenient(configPath);
    const boot = await createBackend(config.bootState).read();
    if (boot.trialBoot) {
      await p.flags.trial(boot.bootedSlot);
      return;
    }
    const why = "writing the healthy flag although the configuration is invalid";
    await announceNormalBoot(boot, p, true, why);
    await p.flags.write("healthy", "normal boot (configuration invalid)");
  } catch {
    // Nothing more can be known: the flag stays unwritten.
  }
}

/** What `bootwarden status` and `bootwarden wait` see when the daemon could not assess at all. */
function failedStatus(phase: "config-error" | "error", error: string, pid: number): DaemonStatus {
  return { phase, updatedAt: new Date().toISOString(), pid, done: [], error, notes: [] };
}

/** `bootwarden daemon`: wires systemd, files and timers into a Daemon; returns the exit status. */
export async function runDaemon(configPath?: string, p: DaemonPorts = realPorts()): Promise<number> {
  const { log, notifier } = p;
  // First: what the heap touches from here on stays in 4 KiB pages.
  if (p.avoidHugePages?.() === false) log.debug("transparent huge pages left as the kernel has them");
  const unraised = p.raisePriority?.();
  if (unraised) log.info(`kept the default CPU weight: ${unraised}`);
  const publishing = (config?: Config, more: Publisher[] = []) =>
    publishedStore(p.store, [...(p.publishers?.(config) ?? []), ...more], (m) => log.warn(m));
  let store = publishing();
  // The bus handshake and the subscription (several round trips to dbus-daemon and systemd, slow while the boot is
  // busy) run while the config and the boot state are read.
  const systemd = p.systemd();
  let stopping = false;
  const exit = (code: number) => {
    if (!stopping) p.exit(code);
  };
  const lost = (reason: string) => {
    log.error(`lost the system bus (${reason}); exiting so that systemd restarts the assessment`);
    exit(1);
  };
  // Until the config is accepted a lost bus is only noted: an invalid config still ends with its own exit status.
  let lostEarly: string | undefined;
  let assessing = false;
  systemd.on("lost", (reason) => {
    if (stopping) return;
    if (assessing) lost(reason);
    else lostEarly ??= reason;
  });
  // Dropped signals from other senders (see systemd/signal-trust.ts): said once per sender, at warning priority.
  const foreign = new Set<string>();
  systemd.on("foreign", (sender, what) => {
    if (foreign.has(sender) || foreign.size > 64) return;
    foreign.add(sender);
    log.warn(
      { MESSAGE_ID: MessageId.foreignSignal, BOOTWARDEN_SENDER: sender },
      `ignored a signal from ${sender}, which is not systemd (${what}); further ones from it are dropped silently`,
    );
  });
  const connected = systemd.start();
  connected.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const leave = (code: number) => {
    systemd.close();
    return code;
  };
  let config: Config;
  let scripts: Awaited<ReturnType<typeof findScripts>>;
  try {
    config = (await loadConfigFast(configPath)).config;
    store = publishing(config);
    await enforceFlagTrust(config.assessment, (p) =>
      log.warn({ MESSAGE_ID: MessageId.untrustedFlagPath }, `flag path other users can write: ${p}`),
    );
    scripts = await findScripts(config, (m) => log.warn(m));
    for (const f of scripts.skipped) log.info(`not running ${f}: disabled (DISABLED_HEALTHCHECKS)`);
  } catch (err) {
    const msg = describeError(err);
    log.error(
      { MESSAGE_ID: MessageId.configInvalid },
      `${msg}; not assessing this boot: a trial boot is not blessed and the backstop rolls it back`,
    );
    await store.write(failedStatus("config-error", msg, p.pid)).catch(() => undefined);
    notifier.status(`configuration invalid: ${msg}`);
    await normalBootDespiteConfig(configPath, p);
    return leave(EXIT_CONFIG);
  }
  const backend = createBackend(config.bootState);
  const api = new ApiLink(backend, p.clock, log);
  store = publishing(config, [api.publish]);
  let boot: BootState;
  try {
    boot = await backend.read();
  } catch (err) {
    const msg = describeError(err);
    log.error(`cannot read the boot state: ${msg}`);
    await store.write(failedStatus("error", msg, p.pid)).catch(() => undefined);
    return leave(1);
  }
  if (boot.trialBoot) await p.flags.trial(boot.bootedSlot);
  // A trial boot must be writable: the sandbox (ProtectSystem=strict) only opens /boot, /efi, /boot/efi by itself.
  const wp = boot.trialBoot ? await writePath(config.bootState) : undefined;
  const problem = wp ? await writeProblem(wp) : undefined;
  if (wp && problem) {
    const msg = `bootState: ${problem}: ${sandboxAdvice(wp)}`;
    log.error({ MESSAGE_ID: MessageId.configInvalid }, `${msg}; not assessing this boot`);
    await store.write(failedStatus("config-error", msg, p.pid)).catch(() => undefined);
    return leave(EXIT_CONFIG);
  }
  // systemd-bless-boot.service would rename the entry too (and undo a mark-bad): its drop-in skips it while this
  // marker says bootwarden owns the BLS entries in this boot.
  if (config.bootState.backend === "bls")
    await writeAtomic(sysPath("/run/bootwarden/bls-backend"), "", { mode: 0o644 });
  assessing = true;
  if (lostEarly) {
    lost(lostEarly);
    return leave(1);
  }
  await connected;
  const daemon = new Daemon({
    config,
    backend,
    systemd,
    store,
    flags: p.flags,
    hooks: withFleetLock(
      new TransientHookRunner(
        systemd,
        {
          green: { lines: config.hooks.green, scripts: scripts.hooks.green },
          red: { lines: config.hooks.red, scripts: scripts.hooks.red },
        },
        { timeoutMs: config.hooks.timeout, network: config.hooks.network },
        log,
      ),
      config.fleetlock !== undefined,
      systemd,
      configPath,
      log,
    ),
    motd: p.motd,
    deployments: new DeploymentRollback(systemd, new TrialRecords(undefined, damaged(log)), log),
    scripts: scripts.checks,
    notifier,
    collectHeap: p.collectHeap,
    log,
    clock: p.clock,
    exit,
    pid: p.pid,
  });
  const serving = api.serve(systemd, daemon); // the name is taken while the assessment starts
  await daemon.start(boot);
  await serving;
  await p.stopSignal;
  stopping = true;
  notifier.stopping();
  await daemon.stop();
  systemd.close();
  return 0;
}
