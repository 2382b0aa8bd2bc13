import { runAction } from "../actions/actions.js";
import type { FlagWriter, HookRunner, Motd, StatusStore } from "../actions/ports.js";
import { reportPreviousTrial } from "../actions/previous-trial.js";
import { EffectRunner } from "../actions/runner.js";
import type { Clock } from "../base/clock.js";
import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import type { BootState, BootStateBackend } from "../bootstate/types.js";
import { formatDuration } from "../config/duration.js";
import type { Config } from "../config/schema.js";
import {
  type Assessment,
  type CheckDef,
  type Effect,
  type Event,
  isAction,
  nextWakeup,
  step,
  summary,
} from "../core/assessment.js";
import { checksFromConfig, type FoundScripts } from "../core/checks.js";
import { BACKSTOP_GRACE_MS } from "../core/deadline.js";
import { recordOf } from "../core/messages.js";
import { rollbackNotice, trialNotice } from "../core/motd.js";
import { planStart, type StartPlan } from "../core/start.js";
import type { DaemonStatus, SlotKey } from "../core/status.js";
import { statusText } from "../core/status-text.js";
import type { SystemdApi } from "../systemd/api.js";
import type { Notifier } from "../systemd/notify.js";
import { type CheckWatchers, watchChecks } from "../watch/checks.js";
import { startMonitor } from "../watch/monitor.js";
import { IdleCollector } from "./memory-release.js";

export interface DaemonDeps {
  config: Config;
  backend: BootStateBackend;
  systemd: SystemdApi;
  store: StatusStore;
  flags: FlagWriter;
  hooks: HookRunner;
  motd: Motd;
  /** The scripts of the config's check directories, listed (and trusted) at start. */
  scripts?: FoundScripts;
  notifier: Notifier;
  /** One full collection of the heap (bytes in use after it), once the daemon idles after the verdict; none: never. */
  collectHeap?: () => number;
  log: Logger;
  clock: Clock;
  /** Leave so that systemd restarts the assessment (a watcher or an action failed for good). */
  exit(code: number, reason: string): void;
  pid: number;
}

const STATUS_EVERY_MS = 5000;
const SAVE_COALESCE_MS = 250;
/** STATUS= while checks come up: the latest text at most this often (a thousand units would send a thousand). */
const STATUS_COALESCE_MS = 100;

/** The long-running assessment: a driver around the pure reducer. Everything it touches comes in through `deps`. */
export class Daemon {
  private assessment!: Assessment;
  private status!: DaemonStatus;
  private runner!: EffectRunner;
  private readonly timers = new Map<string, { cancel(): void }>();
  private closers: (() => unknown)[] = [];
  private ready = false;
  private saving: Promise<void> = Promise.resolve();
  /** This normal boot is the fallback of a failed trial: if it fails too, no slot is left. */
  private afterFailedTrial = false;
  private lastStatus = "";
  private wakeupAt?: number;
  private watchers?: CheckWatchers;
  private readonly release: IdleCollector;
  /** The booted slot, as trial records know it. */
  private key!: SlotKey;

  constructor(private readonly d: DaemonDeps) {
    this.release = new IdleCollector(d.collectHeap, d.clock, d.log);
  }

  async start(boot: BootState): Promise<void> {
    const { config, clock, systemd, store } = this.d;
    const defs = checksFromConfig(config.assessment, this.d.scripts);
    const [userspace, stored] = await Promise.all([
      systemd.managerProperty("UserspaceTimestampMonotonic"),
      store.read(),
    ]);
    const userspaceUs = BigInt(userspace as bigint);
    const plan = planStart(boot, stored, defs, config.assessment, userspaceUs, clock.now(), this.d.pid);
    this.assessment = plan.assessment;
    this.status = plan.status;
    this.key = { slot: boot.bootedSlot, id: boot.bootedId };
    const actionDeps = {
      ...this.d,
      reboot: () => systemd.startUnit("reboot.target", "replace-irreversibly"),
    };
    this.runner = new EffectRunner(
      this.status.done,
      (e) =>
        runAction(actionDeps, e, {
          ...this.key,
          ...this.assessment.verdict,
          retryUntil: this.assessment.deadline + BACKSTOP_GRACE_MS,
        }),
      () => this.save(),
      (err) => this.fatal(`carrying out the verdict failed: ${err.message}`),
    );
    await this.announce(plan, boot, defs.length);
    // The record is written while the watchers subscribe; both are done before READY. Observations that come
    // meanwhile are stepped and saved again after it, in order (save() writes the latest state).
    const saved = this.save();
    saved.catch(() => undefined); // awaited below; not an unhandled rejection while the watchers start
    // Finishes a verdict whose actions a crash cut short; done ones are skipped.
    this.runner.enqueue(plan.actions);
    await Promise.all([this.startWatchers(defs), saved]);
    // READY as soon as the assessment runs: the first verdict's actions (perhaps a reboot) come after it.
    this.lastStatus = this.text();
    this.d.notifier.ready(this.lastStatus);
    this.ready = true;
    this.d.notifier.startWatchdog();
    this.dispatch({ type: "tick", now: clock.now() });
    await this.runner.idle();
    if (!this.assessment.verdict) this.tickStatus();
  }

  private async announce(plan: StartPlan, boot: BootState, checks: number): Promise<void> {
    const slot = boot.bootedSlot;
    if (plan.mode === "normal") {
      // A restart in the same boot finds its own status file and stays quiet about the previous trial.
      if (plan.status.done.length === 0) {
        const failed = await reportPreviousTrial(boot, this.d.store, this.d.log);
        this.afterFailedTrial = failed !== undefined;
        await this.motd(failed && rollbackNotice(failed.slot, failed.reason));
      }
      this.d.log.info(
        { MESSAGE_ID: MessageId.normalBoot, BOOTWARDEN_SLOT: slot, BOOTWARDEN_STATE: boot.state },
        `normal boot of ${slot} (${boot.state}): not a trial boot, nothing to assess`,
      );
      return;
    }
    const a = plan.assessment;
    // Bookkeeping off the start path (READY waits for none of it): the history, the login notice, and loading what
    // the mark's lock needs (the native addon), while the watchers wait for their first answers: a verdict that
    // comes right after READY must not wait for it.
    void this.d.store
      .trialStarted(this.key)
      .catch((err: Error) => this.d.log.warn(`could not record the trial in the history: ${err.message}`));
    void this.motd(trialNotice(a, this.d.clock.now()));
    setImmediate(() => {
      this.d.backend
        .prepareWrite?.()
        .catch((err: Error) => this.d.log.warn(`could not prepare the boot state's lock: ${err.message}`));
    });
    this.d.log.warn(
      {
        MESSAGE_ID: MessageId.trialBoot,
        BOOTWARDEN_SLOT: slot,
        BOOTWARDEN_TRIES_LEFT: boot.triesLeft ?? "",
        BOOTWARDEN_DEADLINE_MONOTONIC_MS: a.deadline,
      },
      `${plan.mode === "resume" ? "resuming" : "starting"} assessment of trial boot of ${slot}: ${checks} checks, ` +
        `deadline in ${formatDuration(a.deadline - this.d.clock.now())}`,
    );
  }

  private async startWatchers(defs: CheckDef[]): Promise<void> {
    const w = await watchChecks(
      defs,
      this.d.systemd,
      this.d.clock.now,
      (id, obs) => this.dispatch({ type: "observed", id, obs, now: this.d.clock.now() }),
      (err) => this.fatal(`watching the checks failed: ${err.message}`),
      [`BOOTWARDEN_SLOT=${this.assessment.slot}`],
      this.d.config.assessment.allowUntrustedFlagPaths,
    );
    this.watchers = w;
    this.closers.push(() => w.close());
    const monitor = await startMonitor(this.d.config.monitor.schedule, () => {
      w.refresh();
      const s = summary(this.assessment);
      this.d.log.info(
        { BOOTWARDEN_SLOT: this.assessment.slot },
        `periodic check: ${s.up}/${s.total} critical checks holding`,
      );
    });
    if (monitor) this.closers.push(() => monitor.stop());
  }

  private dispatch(ev: Event): void {
    const { next, effects } = step(this.assessment, ev);
    this.assessment = next;
    const actions = effects.filter(isAction);
    if (next.verdict && this.status.phase === "assessing") {
      this.status.phase = "verdict";
      this.stopTimer("status");
    }
    this.runner.enqueue(actions);
    if (next.verdict) this.release.poke();
    // The mark comes first: what is only reported (journal, STATUS=, status.json) waits until the action has
    // started its I/O. Actions are recorded as done, so nothing is lost if the daemon dies in between.
    if (actions.length > 0) setImmediate(() => this.report(next, effects));
    else this.report(next, effects);
    const at = nextWakeup(next);
    if (at === this.wakeupAt) return;
    this.stopTimer("wakeup");
    this.wakeupAt = at;
    if (at !== undefined)
      this.timers.set(
        "wakeup",
        this.d.clock.after(at - this.d.clock.now(), () => {
          this.wakeupAt = undefined;
          this.tick();
        }),
      );
  }

  private report(next: Assessment, effects: readonly Effect[]): void {
    for (const e of effects) {
      if (isAction(e)) continue;
      const r = recordOf(e, next.slot, this.d.clock.now());
      this.d.log[r.level](r.fields, r.msg);
      if (e.type === "verdict") this.verdictReached(next, e.verdict, e.reason);
      if (e.type !== "lateFailure") continue;
      this.status.notes.push(`${new Date().toISOString()} ${r.msg}`);
      if (this.afterFailedTrial && this.status.phase === "normal") {
        this.afterFailedTrial = false; // said once
        this.d.log.error(
          { MESSAGE_ID: MessageId.slotExhausted, BOOTWARDEN_SLOT: next.slot },
          `both slots failed: ${next.slot}, the fallback of a failed trial, fails ${e.check.def.id} too; not rolling back and forth`,
        );
      }
    }
    this.saveSoon();
    this.sendStatus();
  }

  /** The verdict's bookkeeping; the actions (mark, flag, hooks, reboot) are the runner's. */
  private verdictReached(a: Assessment, verdict: string, reason: string): void {
    const unfinished = new Set(a.checks.filter((c) => c.status !== "passed").map((c) => c.def.id));
    void this.watchers?.verdictReached(unfinished);
    void this.motd(trialNotice(a, this.d.clock.now()));
    this.d.store
      .trialDecided(this.key, verdict, reason, "daemon")
      .catch((err: Error) => this.d.log.warn(`could not record the verdict in the history: ${err.message}`));
  }

  private async motd(text: string | undefined): Promise<void> {
    await this.d.motd
      .show(text)
      .catch((err: Error) => this.d.log.warn(`could not write the login notice: ${err.message}`));
  }

  private tick(): void {
    this.dispatch({ type: "tick", now: this.d.clock.now() });
  }

  private tickStatus(): void {
    this.timers.set(
      "status",
      this.d.clock.after(STATUS_EVERY_MS, () => {
        this.sendStatus();
        if (!this.assessment.verdict) void this.motd(trialNotice(this.assessment, this.d.clock.now()));
        this.tickStatus();
      }),
    );
  }

  private stopTimer(name: string): void {
    this.timers.get(name)?.cancel();
    this.timers.delete(name);
  }

  /**
   * STATUS= only after READY (which carries the first one) and only on change; while checks come up at most every
   * 100 ms (the latest text wins), so that a burst does not flood systemd. The verdict's goes out at once.
   */
  private sendStatus(): void {
    if (!this.ready) return;
    if (this.assessment.verdict) {
      this.stopTimer("statusSoon");
      this.sendStatusNow();
      return;
    }
    // A window opens only when something was sent: the first change of a burst goes out at once.
    if (this.timers.has("statusSoon") || !this.sendStatusNow()) return;
    this.timers.set(
      "statusSoon",
      this.d.clock.after(STATUS_COALESCE_MS, () => {
        this.timers.delete("statusSoon");
        this.sendStatusNow();
      }),
    );
  }

  private sendStatusNow(): boolean {
    const text = this.text();
    if (text === this.lastStatus) return false;
    this.lastStatus = text;
    this.d.notifier.status(text);
    return true;
  }

  text(): string {
    return statusText(this.status.phase, this.assessment, this.d.clock.now());
  }

  /** Check-only changes feed `bootwarden status`, not the resume: saved at most every 250 ms. */
  private saveSoon(): void {
    if (this.timers.has("save")) return;
    this.timers.set(
      "save",
      this.d.clock.after(SAVE_COALESCE_MS, () => {
        this.timers.delete("save");
        this.save().catch((err: Error) => this.d.log.warn(`could not write the status file: ${err.message}`));
      }),
    );
  }

  /**
   * One write at a time, each taking the state when it begins: two renames racing could otherwise leave an older
   * state in the file than the last one saved.
   */
  private save(): Promise<void> {
    const write = () => {
      this.status.assessment = this.assessment;
      this.status.updatedAt = new Date().toISOString();
      return this.d.store.write(this.status);
    };
    const p = this.saving.then(write, write);
    this.saving = p.catch(() => undefined);
    return p;
  }

  private fatal(reason: string): void {
    this.d.log.error(`fatal: ${reason}; exiting so that systemd restarts the assessment`);
    this.d.exit(1, reason);
  }

  /** For tests and the SIGTERM path: everything enqueued is carried out. */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  snapshot(): DaemonStatus {
    return { ...this.status, assessment: this.assessment };
  }

  async stop(): Promise<void> {
    this.release.stop();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    for (const c of this.closers) await c();
    this.d.notifier.close();
  }
}
