import { type ActionEffect, type DoneKey, doneKey } from "../core/assessment.js";

/** Actions that may run twice without harm (marking good again is "already so"; the flag is rewritten). */
const IDEMPOTENT: ReadonlySet<string> = new Set(["markGood", "flag"]);

/**
 * Carries out action effects one at a time, in order, each at most once per boot: a key is added to `done` after
 * its action, and an effect whose key is there is skipped. The record is saved before any action that must not run
 * twice (hooks, the rollback) and at the end of a batch, not between idempotent ones: the flag follows the mark
 * without a status.json write in between. An action that did not happen (returns false) is not recorded, so a
 * later start tries it again.
 */
export class EffectRunner {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly done: DoneKey[],
    private readonly act: (e: ActionEffect) => Promise<boolean>,
    private readonly save: () => Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  enqueue(effects: readonly ActionEffect[]): void {
    if (effects.length === 0) return;
    this.queue = this.queue
      .then(async () => {
        let unsaved = false;
        for (const e of effects) {
          const key = doneKey(e);
          if (this.done.includes(key)) continue;
          const idempotent = IDEMPOTENT.has(e.type);
          if (unsaved && !idempotent) {
            await this.save();
            unsaved = false;
          }
          if (!(await this.act(e))) continue;
          this.done.push(key);
          if (idempotent) unsaved = true;
          else await this.save();
        }
        if (unsaved) await this.save();
      })
      .catch((err: Error) => this.onError(err));
  }

  /** Resolves once everything enqueued so far is carried out. */
  idle(): Promise<void> {
    return this.queue;
  }
}
