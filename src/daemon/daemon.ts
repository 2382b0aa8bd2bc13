import { runAction } from "../actions/actions.js";
import { confirmMarkGood, readBackOnResume } from "../actions/confirm-mark.js";
import { showNotice } from "../actions/motd.js";
import { announceNormalBoot, fallbackFailsToo } from "../actions/normal-boot.js";
import { EffectRunner } from "../actions/runner.js";
import { announceTrial } from "../actions/trial-start.js";
import type { BootState } from "../bootstate/types.js";
import type { Verdict } from "../core/assessment.js";
import { type Assessment, type Effect, type Event, isAction, nextWakeup, step } from "../core/assessment.js";
import { checksFromConfig } from "../core/checks.js";
import { BACKSTOP_GRACE_MS } from "../core/deadline.js";
import { recordOf } from "../core/messages.js";
import { trialNotice } from "../core/motd.js";
import { planStart } from "../core/start.js";
import type { DaemonStatus, SlotKey } from "../core/status.js";
import { statusText } from "../core/status-text.js";
import { type CheckWatchers, watchChecks } from "../watch/checks.js";
import { startMonitor } from "../watch/monitor.js";
import type { DaemonDeps } from "./deps.js";
import { IdleCollector } from "./idle-collector.js";
import { StatusPublisher } from "./status-publisher.js";
import { StatusSaver } from "./status-saver.js";
import { Wakeup } from "./wakeup.js";

/** The long-running assessment: a driver around the pure reducer. Everything it touches comes in through `deps`. */
export class Daemon {
  private assessment!: Assessment;
  private status!: DaemonStatus;
  private runner!: EffectRunner;
  /** The booted slot, as trial records know it. */
  private key!: SlotKey;
  private closers: (() => unknown)[] = [];
  /** This normal boot is the fallback of a failed trial: if it fails too, no slot is left. */
  private afterFailedTrial = false;
  /** When the reducer next needs time to pass (a settle time, the deadline). */
  private readonly wakeup: Wakeup;
  private watchers?: CheckWatchers;
  private readonly collector: IdleCollector;
  private readonly publisher: StatusPublisher;
  private readonly saver: StatusSaver;

  constructor(private readonly d: DaemonDeps) {
    this.collector = new IdleCollector(d.collectHeap, d.clock, d.log);
    this.wakeup = new Wakeup(d.clock, () => this.dispatch({ type: "tick", now: d.clock.now() }));
    const text = () => statusText(this.status.phase, this.assessment, d.clock.now());
    this.publisher = new StatusPublisher(d.notifier, d.clock, text);
    this.saver = new StatusSaver(d, () => this.snapshot());
  }

  async start(boot: BootState): Promise<void> {
    const { config, clock, systemd, store } = this.d;
    const defs = checksFromConfig(config.assessment, this.d.scripts);
    this.key = { slot: boot.bootedSlot, id: boot.bootedId };
    const [userspace, stored, tries] = await Promise.all([
      systemd.userspaceStart(),
      store.read(),
      boot.trialBoot ? store.trialTry(this.key, boot.triesLeft, boot.triesDone) : undefined,
    ]);
    const extra = { tries, wallNow: Date.now() };
    const plan = planStart(boot, stored, defs, config.assessment, userspace, clock.now(), this.d.pid, extra);
    this.assessment = plan.assessment;
    this.status = plan.status;
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
          try: this.assessment.try,
          left: boot.triesLeft,
        }),
      () => this.saver.save(),
      (err) => this.fatal(`carrying out the verdict failed: ${err.message}`),
    );
    if (plan.mode === "normal") {
      // A restart in the same boot finds its own status file and stays quiet about the previous trial.
      const failed = await announceNormalBoot(boot, this.d, plan.status.done.length === 0);
      if (failed) this.status.rolledBackFrom = failed;
      if (failed)
        void this.d.deployments?.afterFallback(failed).catch((e: Error) => this.d.log.warn(e.message));
      this.afterFailedTrial = failed !== undefined;
    } else {
      const how = { resumed: plan.mode === "resume", checks: defs.length };
      announceTrial(plan.assessment, boot, this.key, how, this.d);
    }
    // The record is written while the watchers subscribe; both are done before READY. Observations that come
    // meanwhile are stepped and saved again after it, in order (save() writes the latest state).
    const saved = this.saver.save();
    saved.catch(() => undefined); // awaited below; not an unhandled rejection while the watchers start
    // Finishes a verdict whose actions a crash cut short; done ones are skipped, a recent mark good is read back.
    this.runner.enqueue(plan.actions);
    const readBack = readBackOnResume(plan, clock.now());
    if (readBack !== undefined) void confirmMarkGood(actionDeps, this.key, readBack);
    await Promise.all([this.startWatchers(defs), saved]);
    // READY as soon as the assessment runs: the first verdict's actions (perhaps a reboot) come after it.
    this.publisher.ready();
    this.dispatch({ type: "tick", now: clock.now() });
    await this.runner.idle();
    if (this.assessment.verdict) return this.publisher.settled();
    this.publisher.refreshEvery(
      () => void showNotice(this.d, trialNotice(this.assessment, this.d.clock.now())),
    );
  }

  private async startWatchers(defs: Parameters<typeof watchChecks>[0]): Promise<void> {
    const { clock, config, log } = this.d;
    const w = await watchChecks(
      defs,
      this.d.systemd,
      clock.now,
      (id, obs) => this.dispatch({ type: "observed", id, obs, now: clock.now() }),
      (err) => this.fatal(`watching the checks failed: ${err.message}`),
      [`BOOTWARDEN_SLOT=${this.assessment.slot}`],
      config.assessment.allowUntrustedFlagPaths,
    );
    this.watchers = w;
    this.closers.push(() => w.close());
    const monitor = await startMonitor(config.monitor.schedule, w, () => this.assessment, log);
    if (monitor) this.closers.push(() => monitor.stop());
  }

  private dispatch(ev: Event): void {
    const { next, effects } = step(this.assessment, ev);
    this.assessment = next;
    const actions = effects.filter(isAction);
    if (next.verdict && this.status.phase === "assessing") this.status.phase = "verdict";
    this.runner.enqueue(actions);
    if (next.verdict) this.collector.poke();
    // The mark comes first: what is only reported (journal, STATUS=, status.json) waits until the action has
    // started its I/O. Actions are recorded as done, so nothing is lost if the daemon dies in between.
    if (actions.length > 0) setImmediate(() => this.report(next, effects));
    else this.report(next, effects);
    this.wakeup.at(nextWakeup(next));
  }

  private report(next: Assessment, effects: readonly Effect[]): void {
    for (const e of effects) {
      if (isAction(e)) continue;
      const r = recordOf(e, next.slot, this.d.clock.now());
      this.d.log[r.level](r.fields, r.msg);
      if (e.type === "verdict") this.verdictReached(next, e.verdict, e.reason);
      if (e.type !== "lateFailure") continue;
      this.status.notes.push(`${new Date().toISOString()} ${r.msg}`);
      // Only a critical check failing on the fallback means no slot is left; a wanted one is reported as any is.
      if (this.afterFailedTrial && this.status.phase === "normal" && e.check.def.critical) {
        this.afterFailedTrial = false; // said once
        fallbackFailsToo(this.d.log, next.slot, e.check.def.id);
      }
    }
    this.saver.saveSoon();
    this.publisher.changed(next.verdict !== undefined);
  }

  /** The verdict's bookkeeping; the actions (mark, flag, hooks, reboot) are the runner's. */
  private verdictReached(a: Assessment, verdict: string, reason: string): void {
    const unfinished = new Set(a.checks.filter((c) => c.status !== "passed").map((c) => c.def.id));
    void this.watchers?.verdictReached(unfinished);
    void showNotice(this.d, trialNotice(a, this.d.clock.now()));
    this.publisher.settledAfter(this.runner.idle());
    this.d.store
      .trialDecided(this.key, verdict, reason, "daemon")
      .catch((err: Error) => this.d.log.warn(`could not record the verdict in the history: ${err.message}`));
  }

  private fatal(reason: string): void {
    this.d.log.error(`fatal: ${reason}; exiting so that systemd restarts the assessment`);
    this.d.exit(1, reason);
  }

  /** An operator's verdict (the API's MarkGood/MarkBad) before the assessment's own; false once there is one. */
  decide(verdict: Verdict, reason: string): boolean {
    const open = !this.assessment.verdict && this.status.phase === "assessing";
    if (open) this.dispatch({ type: "decided", verdict, reason, now: this.d.clock.now() });
    return open;
  }

  /** For tests and the SIGTERM path: everything enqueued is carried out. */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  /** The state as status.json holds it. */
  snapshot(): DaemonStatus {
    return { ...this.status, assessment: this.assessment };
  }

  async stop(): Promise<void> {
    this.collector.stop();
    this.publisher.stopTimers();
    this.saver.stop();
    this.wakeup.at(undefined);
    for (const c of this.closers) await c();
    this.d.notifier.close();
  }
}
