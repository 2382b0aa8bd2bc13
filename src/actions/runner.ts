import { type ActionEffect, type DoneKey, doneKey } from "../core/assessment.js";

/**
 * Carries out action effects one at a time, in order, each at most once per boot: a key is added to `done` (and
 * saved) after its action, and an effect whose key is there is skipped. An action that did not happen (returns
 * false) is not recorded, so a later start tries it again.
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
        for (const e of effects) {
          const key = doneKey(e);
          if (this.done.includes(key)) continue;
          if (!(await this.act(e))) continue;
          this.done.push(key);
          await this.save();
        }
      })
      .catch((err: Error) => this.onError(err));
  }

  /** Resolves once everything enqueued so far is carried out. */
  idle(): Promise<void> {
    return this.queue;
  }
}
