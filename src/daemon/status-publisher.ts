import type { Clock } from "../base/clock.js";
import type { Notifier } from "../systemd/notify.js";

/** While checks come up: STATUS= at most this often (a thousand units would send a thousand). */
const COALESCE_MS = 100;
/** While no verdict exists: STATUS= (its time left) and the login notice refreshed this often. */
const EVERY_MS = 5000;
/**
 * Once the verdict's actions are done: the watchdog's timeout (the unit's 30 s is for the trial). Left with late
 * failures to report and the API to answer, a hung daemon is restarted within this; its pings, which woke the idle
 * daemon four times a minute, come every 5 minutes.
 */
export const SETTLED_WATCHDOG_USEC = 10 * 60 * 1e6;

/**
 * What systemd shows of the assessment (`systemctl status`: STATUS=, READY=1) and the watchdog. STATUS= goes out only
 * after READY (which carries the first one) and only on change; while checks come up at most every COALESCE_MS (the
 * latest text wins), the first change of a burst at once; the verdict's at once.
 */
export class StatusPublisher {
  private isReady = false;
  private last = "";
  private soon?: { cancel(): void };
  private every?: { cancel(): void };

  constructor(
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    /** The text for now. */
    private readonly text: () => string,
  ) {}

  ready(): void {
    this.last = this.text();
    this.notifier.ready(this.last);
    this.isReady = true;
    this.notifier.startWatchdog();
  }

  /** Nothing left to carry out (a verdict, its actions done): the watchdog's longer timeout. */
  settled(): void {
    if (this.isReady) this.notifier.startWatchdog(SETTLED_WATCHDOG_USEC);
  }

  /** settled() once `actions` are done (a failure is the daemon's to handle: it exits). */
  settledAfter(actions: Promise<unknown>): void {
    actions.then(
      () => this.settled(),
      () => undefined,
    );
  }

  /** Something changed; `final`: the verdict, sent at once and the end of the periodic refresh. */
  changed(final: boolean): void {
    if (!this.isReady) return;
    if (final) {
      this.stopTimers();
      this.sendNow();
      return;
    }
    if (this.soon || !this.sendNow()) return;
    this.soon = this.clock.after(COALESCE_MS, () => {
      this.soon = undefined;
      this.sendNow();
    });
  }

  /** Until the verdict: every EVERY_MS, STATUS= again (its time left moves) and `also` (the login notice). */
  refreshEvery(also: () => void): void {
    this.every = this.clock.after(EVERY_MS, () => {
      this.sendNow();
      also();
      this.refreshEvery(also);
    });
  }

  stopTimers(): void {
    this.soon?.cancel();
    this.every?.cancel();
    this.soon = this.every = undefined;
  }

  private sendNow(): boolean {
    const text = this.text();
    if (text === this.last) return false;
    this.last = text;
    this.notifier.status(text);
    return true;
  }
}
