import dbus from "dbus-next";
import { createBackend } from "../bootstate/registry.js";
import type { BootState, BootStateBackend } from "../bootstate/types.js";
import { monotonicMs } from "../clock.js";
import { formatDuration } from "../config/duration.js";
import { loadConfig, loadConfigLenient } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { describeError } from "../errors.js";
import { MessageId } from "../events.js";
import { createLogger, type Logger } from "../log.js";
import { sysPath } from "../paths.js";
import { SystemdClient } from "../systemd/bus.js";
import { createNotifier, type Notifier } from "../systemd/notify.js";
import { Actions, writeFlag } from "./actions.js";
import {
  type Assessment,
  type Effect,
  type Event,
  newAssessment,
  nextWakeup,
  step,
  summary,
  verdictEffects,
} from "./assessment.js";
import { checksFromConfig } from "./checks.js";
import { type DaemonStatus, readLastTrial, readStatus, writeLastTrial, writeStatus } from "./store.js";
import { UnitWatcher } from "./units.js";

export const EXIT_CONFIG = 78; // EX_CONFIG: the unit's RestartPreventExitStatus, so a bad config does not loop

const effectKey = (e: Effect) => (e.type === "flag" || e.type === "hooks" ? `${e.type}:${e.which}` : e.type);

/** The long-running assessment. Everything it touches comes in through the constructor or `start`. */
export class Daemon {
  private assessment!: Assessment;
  private status!: DaemonStatus;
  private units?: UnitWatcher;
  private flags?: import("./flags.js").FlagWatcher;
  private timer?: NodeJS.Timeout;
  private statusTicker?: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  private cronTask?: { stop(): void };
  private ready = false;
  // One instance: it remembers a failed mark-bad so that the reboot after it is skipped.
  private readonly actions: Actions;
  private lastStatus = "";

  constructor(
    private readonly config: Config,
    backend: BootStateBackend,
    private readonly systemd: SystemdClient,
    private readonly notifier: Notifier,
    private readonly log: Logger,
    private readonly now: () => number = monotonicMs,
  ) {
    this.actions = new Actions(backend, { reboot: () => this.reboot() }, config.hooks, log);
  }

  async start(boot: BootState): Promise<void> {
    const a = this.config.assessment;
    const prior = await readStatus();
    const resumable = prior?.assessment && prior.slot === boot.bootedSlot ? prior : undefined;
    const fields = { BOOTWARDEN_SLOT: boot.bootedSlot };
    const defs = checksFromConfig(a);
    if (!boot.trialBoot) {
      await reportPreviousTrial(boot, this.log);
      this.log.info(
        { MESSAGE_ID: MessageId.normalBoot, ...fields, BOOTWARDEN_STATE: boot.state },
        `normal boot of ${boot.bootedSlot} (${boot.state}): not a trial boot, nothing to assess`,
      );
      await writeFlag("healthy", "normal boot");
      this.assessment = newAssessment(boot.bootedSlot, defs, this.now(), a.settle, a.action);
      this.assessment.verdict = { verdict: "healthy", reason: "normal boot", at: this.now() };
      this.status = this.newStatus("normal", boot, resumable?.done ?? []);
    } else {
      const userspaceUs = BigInt(
        (await this.systemd.managerProperty("UserspaceTimestampMonotonic")) as bigint,
      );
      // Anchored to this boot's start, so a restarted daemon keeps the same deadline.
      const deadline = Number(userspaceUs / 1000n) + a.deadline;
      this.assessment =
        resumable?.assessment ?? newAssessment(boot.bootedSlot, defs, deadline, a.settle, a.action);
      this.status = this.newStatus(
        this.assessment.verdict ? "verdict" : "assessing",
        boot,
        resumable?.done ?? [],
      );
      this.status.deadlineMonotonicMs = this.assessment.deadline;
      this.log.warn(
        {
          MESSAGE_ID: MessageId.trialBoot,
          ...fields,
          BOOTWARDEN_TRIES_LEFT: boot.triesLeft ?? "",
          BOOTWARDEN_DEADLINE_MONOTONIC_MS: this.assessment.deadline,
        },
        `${resumable ? "resuming" : "starting"} assessment of trial boot of ${boot.bootedSlot}: ${defs.length} checks, ` +
          `deadline in ${formatDuration(this.assessment.deadline - this.now())}`,
      );
    }
    await this.persist();
    // Finish a verdict whose actions were cut short by a crash or restart (done ones are skipped).
    const resumed = boot.trialBoot ? this.assessment.verdict : undefined;
    if (resumed) {
      this.enqueue(
        verdictEffects(this.assessment, resumed.verdict, resumed.reason).filter((e) => e.type !== "verdict"),
      );
    }
    await this.startWatchers(defs);
    // READY as soon as the assessment runs: the first verdict's actions (perhaps a reboot) come after it.
    this.notifier.ready(this.statusText());
    this.ready = true;
    this.notifier.startWatchdog();
    this.dispatch({ type: "tick", now: this.now() });
    await this.queue;
    if (!this.assessment.verdict) {
      this.statusTicker = setInterval(() => this.sendStatus(), 5000);
    }
    this.startMonitor();
  }

  private newStatus(phase: DaemonStatus["phase"], boot: BootState, done: string[]): DaemonStatus {
    return {
      phase,
      slot: boot.bootedSlot,
      trialBoot: boot.trialBoot,
      updatedAt: new Date().toISOString(),
      pid: process.pid,
      assessment: this.assessment,
      done,
      notes: [],
    };
  }

  private async startWatchers(defs: ReturnType<typeof checksFromConfig>): Promise<void> {
    const unitDefs = defs.filter((d) => d.kind === "unit").map((d) => ({ id: d.id, name: d.target }));
    this.units = new UnitWatcher(
      this.systemd,
      unitDefs,
      (id, obs) => this.dispatch({ type: "observed", id, obs, now: this.now() }),
      (err) => this.fatal(`reading unit properties failed: ${err.message}`),
    );
    await this.units.start();
    const flagDefs = defs
      .filter((d) => d.kind === "flag" || d.kind === "failFlag")
      .map((d) => ({ id: d.id, file: sysPath(d.target), failure: d.kind === "failFlag" }));
    if (flagDefs.length > 0) {
      // chokidar is loaded only when flags are declared.
      const { FlagWatcher } = await import("./flags.js");
      this.flags = new FlagWatcher(
        flagDefs,
        (id, obs) => this.dispatch({ type: "observed", id, obs, now: this.now() }),
        this.now,
      );
      await this.flags.start();
    }
    if (defs.some((d) => d.kind === "noFailedUnits")) {
      const check = () => this.checkNoFailedUnits().catch((err: Error) => this.fatal(err.message));
      this.systemd.on("jobRemoved", () => void check());
      await check();
    }
  }

  private lastFailedCount = -1;
  private async checkNoFailedUnits(): Promise<void> {
    const n = Number(await this.systemd.managerProperty("NFailedUnits"));
    if (n === this.lastFailedCount) return;
    this.lastFailedCount = n;
    const obs =
      n === 0
        ? { kind: "up" as const, since: this.now(), detail: "no failed units" }
        : { kind: "failed" as const, detail: `${n} failed unit(s)` };
    this.dispatch({ type: "observed", id: "noFailedUnits", obs, now: this.now() });
  }

  private dispatch(ev: Event): void {
    const { next, effects } = step(this.assessment, ev);
    this.assessment = next;
    this.enqueue(effects);
    this.schedule();
  }

  private enqueue(effects: Effect[]): void {
    if (effects.length === 0) return;
    this.queue = this.queue.then(() => this.carryOut(effects)).catch((err: Error) => this.fatal(err.message));
  }

  private async carryOut(effects: Effect[]): Promise<void> {
    const v = this.assessment.verdict;
    const ctx = { slot: this.assessment.slot, verdict: v?.verdict, reason: v?.reason };
    for (const e of effects) {
      this.report(e);
      if (e.type === "check" || e.type === "lateFailure") continue;
      if (e.type === "verdict") {
        this.status.phase = "verdict";
        await this.persist();
        continue;
      }
      const key = effectKey(e);
      if (this.status.done.includes(key)) continue;
      await this.actions.run(e, ctx);
      this.status.done.push(key);
      await this.persist();
    }
    // Check-only changes feed `bootwarden status`, not the resume: written at most every 250 ms, so hundreds of
    // units coming up do not mean hundreds of file writes on the way to the verdict.
    this.persistSoon();
    this.sendStatus();
    if (this.assessment.verdict && this.statusTicker) {
      clearInterval(this.statusTicker);
      this.statusTicker = undefined;
    }
  }

  private report(e: Effect): void {
    const slot = this.assessment.slot;
    switch (e.type) {
      case "check": {
        const c = e.check;
        const f = {
          BOOTWARDEN_SLOT: slot,
          BOOTWARDEN_CHECK: c.def.id,
          ...(c.def.kind === "unit" ? { UNIT: c.def.target } : {}),
        };
        if (c.status === "passed")
          this.log.info(
            {
              MESSAGE_ID: MessageId.checkPassed,
              ...f,
              BOOTWARDEN_UP_SINCE_MONOTONIC_MS: c.upSince,
              BOOTWARDEN_SEEN_MONOTONIC_MS: this.now(),
            },
            `check ${c.def.id} passed: ${c.detail}`,
          );
        else if (c.status === "failed")
          this.log.error(
            { MESSAGE_ID: MessageId.checkFailed, ...f },
            `check ${c.def.id} failed: ${c.detail}`,
          );
        else this.log.debug(f, `check ${c.def.id}: ${c.status} (${c.detail})`);
        return;
      }
      case "lateFailure":
        this.log.error(
          { BOOTWARDEN_SLOT: slot, BOOTWARDEN_CHECK: e.check.def.id },
          `after the verdict: ${e.check.def.id} failed: ${e.check.detail} (the verdict stands; no rollback)`,
        );
        this.status.notes.push(
          `${new Date().toISOString()} ${e.check.def.id} failed after the verdict: ${e.check.detail}`,
        );
        return;
      case "verdict": {
        const level = e.verdict === "healthy" ? "info" : e.verdict === "degraded" ? "warn" : "error";
        this.log[level](
          { MESSAGE_ID: MessageId.verdict, BOOTWARDEN_SLOT: slot, BOOTWARDEN_VERDICT: e.verdict },
          `verdict for trial boot of ${slot}: ${e.verdict}: ${e.reason}`,
        );
        return;
      }
      default:
        return;
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const at = nextWakeup(this.assessment);
    if (at === undefined) return;
    this.timer = setTimeout(
      () => this.dispatch({ type: "tick", now: this.now() }),
      Math.max(0, at - this.now()),
    );
  }

  private async reboot(): Promise<void> {
    await this.systemd.startUnit("reboot.target", "replace-irreversibly");
  }

  private startMonitor(): void {
    const expr = this.config.monitor.schedule;
    if (!expr) return;
    import("node-cron").then(
      ({ default: cron }) => {
        this.cronTask = cron.schedule(expr, () => {
          this.units?.refreshAll();
          void this.flags?.recheck();
          const s = summary(this.assessment);
          this.log.info(
            { BOOTWARDEN_SLOT: this.assessment.slot },
            `periodic check: ${s.up}/${s.total} required checks holding`,
          );
        });
      },
      (err: Error) => this.log.error(`monitor schedule not started: ${err.message}`),
    );
  }

  /**
   * STATUS= only after READY (which carries the first one) and only when the text changed: a burst of observations
   * (hundreds of units at start) must not flood systemd's notify queue.
   */
  private sendStatus(): void {
    const text = this.statusText();
    if (!this.ready || text === this.lastStatus) return;
    this.lastStatus = text;
    this.notifier.status(text);
  }

  statusText(): string {
    const a = this.assessment;
    const s = summary(a);
    if (this.status.phase === "normal")
      return `normal boot of ${a.slot}: healthy; monitoring ${s.total} checks`;
    if (a.verdict) return `trial boot of ${a.slot}: ${a.verdict.verdict}: ${a.verdict.reason}`;
    return `trial boot of ${a.slot}: ${s.up}/${s.total} critical checks up, ${formatDuration(a.deadline - this.now())} left`;
  }

  private persistTimer?: NodeJS.Timeout;
  private persistSoon(): void {
    if (this.persistTimer) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      this.persist().catch((err: Error) => this.log.warn(`could not write the status file: ${err.message}`));
    }, 250);
  }

  private async persist(): Promise<void> {
    this.status.assessment = this.assessment;
    this.status.updatedAt = new Date().toISOString();
    await writeStatus(this.status);
  }

  private fatal(reason: string): void {
    this.log.error(`fatal: ${reason}; exiting so that systemd restarts the assessment`);
    process.exit(1);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.persistTimer) clearTimeout(this.persistTimer);
    if (this.statusTicker) clearInterval(this.statusTicker);
    this.cronTask?.stop();
    await this.flags?.close();
    this.notifier.close();
  }
}

/** A normal boot that follows a failed trial says so, once (our own record, or what the bootloader state shows). */
async function reportPreviousTrial(boot: BootState, log: Logger): Promise<void> {
  const last = await readLastTrial();
  const fromOurs = last && last.slot !== boot.bootedSlot && !last.reported ? last : undefined;
  const failed = fromOurs
    ? `${fromOurs.slot}: ${fromOurs.verdict} (${fromOurs.reason})`
    : boot.rolledBackFrom
      ? `${boot.rolledBackFrom.slot}: ${boot.rolledBackFrom.reason}`
      : undefined;
  if (!failed) return;
  log.error(
    {
      MESSAGE_ID: MessageId.previousTrialFailed,
      BOOTWARDEN_SLOT: boot.bootedSlot,
      BOOTWARDEN_FAILED_SLOT: fromOurs?.slot ?? boot.rolledBackFrom?.slot,
    },
    `booted ${boot.bootedSlot} after a failed trial boot of ${failed}`,
  );
  if (fromOurs) await writeLastTrial({ ...fromOurs, reported: true });
}

/**
 * With an invalid config a trial boot is left to the backstop; but a normal boot (the known-good slot) still gets its
 * healthy flag, so units gated on it run, as long as the boot state itself can be read.
 */
async function reportNormalBootDespiteConfig(configPath: string | undefined, log: Logger): Promise<void> {
  try {
    const { config } = await loadConfigLenient(configPath);
    const boot = await createBackend(config.bootState).read();
    if (boot.trialBoot) return;
    await reportPreviousTrial(boot, log);
    log.info(
      { MESSAGE_ID: MessageId.normalBoot, BOOTWARDEN_SLOT: boot.bootedSlot },
      `normal boot of ${boot.bootedSlot}: writing the healthy flag although the configuration is invalid`,
    );
    await writeFlag("healthy", "normal boot (configuration invalid)");
  } catch {
    // Nothing more can be known: the flag stays unwritten.
  }
}

/** What `bootwarden status` and `bootwarden wait` see when the daemon could not assess at all. */
function writeFailedStatus(phase: "config-error" | "error", error: string): Promise<void> {
  const s: DaemonStatus = {
    phase,
    updatedAt: new Date().toISOString(),
    pid: process.pid,
    done: [],
    error,
    notes: [],
  };
  return writeStatus(s).catch(() => undefined);
}

/** `bootwarden daemon`: returns the exit status. */
export async function runDaemon(configPath?: string): Promise<number> {
  const log = createLogger();
  const notifier = createNotifier(process.env, (err) => log.warn(`sd_notify failed: ${err.message}`));
  let config: Config;
  try {
    config = (await loadConfig(configPath)).config;
  } catch (err) {
    const msg = describeError(err);
    log.error(
      { MESSAGE_ID: MessageId.configInvalid },
      `${msg}; not assessing this boot: a trial boot is not blessed and the backstop timer rolls it back`,
    );
    await writeFailedStatus("config-error", msg);
    notifier.status(`configuration invalid: ${msg}`);
    await reportNormalBootDespiteConfig(configPath, log);
    return EXIT_CONFIG;
  }
  const backend = createBackend(config.bootState);
  let boot: BootState;
  try {
    boot = await backend.read();
  } catch (err) {
    const msg = describeError(err);
    log.error(`cannot read the boot state: ${msg}`);
    await writeFailedStatus("error", msg);
    return 1;
  }
  const bus = dbus.systemBus();
  const systemd = new SystemdClient(bus);
  let stopping = false;
  systemd.on("lost", (reason) => {
    if (stopping) return;
    log.error(`lost the system bus (${reason}); exiting so that systemd restarts the assessment`);
    process.exit(1);
  });
  await systemd.start();
  const daemon = new Daemon(config, backend, systemd, notifier, log);
  await daemon.start(boot);
  await new Promise<void>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve());
  });
  stopping = true;
  notifier.stopping();
  await daemon.stop();
  bus.disconnect();
  return 0;
}
