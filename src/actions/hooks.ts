import { describeError } from "../base/errors.js";
import type { Logger } from "../base/log.js";
import type { Script } from "../core/checks.js";
import { commandLabel, lineArgv, scriptArgv, TransientNames } from "../core/commands.js";
import type { SystemdApi } from "../systemd/api.js";
import type { HookContext, HookRunner } from "./ports.js";

export interface HookSet {
  /** Command lines from the config. */
  lines: string[];
  /** Scripts found in the hook directories (greenboot's green.d, red.d). */
  scripts: Script[];
}

/**
 * Hooks as transient oneshot units, all of one kind at once: outside the daemon's sandbox (they may reach the
 * network), each with its own journal stream, each killed by systemd at the timeout. The run returns once every
 * hook has ended, so red hooks are done before the reboot. A failing hook is logged, never fatal.
 */
export class TransientHookRunner implements HookRunner {
  constructor(
    private readonly systemd: SystemdApi,
    private readonly hooks: Record<"green" | "red", HookSet>,
    private readonly opts: { timeoutMs: number; network: boolean },
    private readonly log: Logger,
  ) {}

  async run(which: "green" | "red", ctx: HookContext): Promise<void> {
    const set = this.hooks[which];
    // A script runs as the path it resolved to when it was trusted; it is named after its listed file.
    const argvs = [
      ...set.lines.map((l) => ({ argv: lineArgv(l), label: commandLabel(lineArgv(l)) })),
      ...set.scripts.map((s) => ({ argv: scriptArgv(s.exec), label: commandLabel(scriptArgv(s.file)) })),
    ];
    const names = new TransientNames();
    const environment = [
      `BOOTWARDEN_SLOT=${ctx.slot}`,
      `BOOTWARDEN_VERDICT=${ctx.verdict}`,
      `BOOTWARDEN_REASON=${ctx.reason}`,
    ];
    await Promise.all(
      argvs.map(async ({ argv, label }) => {
        const unit = names.name(`hook-${which}`, label);
        const log = this.log.child({ BOOTWARDEN_HOOK: argv.join(" "), BOOTWARDEN_HOOK_UNIT: unit });
        try {
          const result = await this.systemd.runTransient(unit, {
            description: `bootwarden ${which} hook: ${argv.at(-1)}`,
            argv,
            timeoutMs: this.opts.timeoutMs,
            network: this.opts.network,
            environment,
            remainAfterExit: false,
          });
          if (result === "done") log.info(`${which} hook ${unit} ran`);
          else log.warn(`${which} hook ${unit} ended with "${result}" (journalctl -u ${unit})`);
        } catch (err) {
          log.warn(`${which} hook ${unit} could not start: ${describeError(err)}`);
        }
      }),
    );
  }
}
