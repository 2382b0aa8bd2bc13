import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import type { BootStateBackend } from "../bootstate/types.js";
import type { Config } from "../config/schema.js";
import { describeError } from "../errors.js";
import { MessageId } from "../events.js";
import type { Logger } from "../log.js";
import type { Effect, Verdict } from "./assessment.js";
import { runFile, writeAtomic, writeLastTrial } from "./store.js";

export interface ActionContext {
  slot: string;
  verdict?: Verdict;
  reason?: string;
}

export interface Rebooter {
  reboot(): Promise<void>;
}

/**
 * Carries out the state machine's effects. Every effect is idempotent or recorded as done by the caller, so a
 * daemon restarted halfway through a verdict finishes it without repeating what was done.
 */
export class Actions {
  private markBadFailed = false;

  constructor(
    private readonly backend: BootStateBackend,
    private readonly rebooter: Rebooter,
    private readonly hooks: Config["hooks"],
    private readonly log: Logger,
  ) {}

  async run(effect: Effect, ctx: ActionContext): Promise<void> {
    const fields = { BOOTWARDEN_SLOT: ctx.slot, BOOTWARDEN_VERDICT: ctx.verdict };
    switch (effect.type) {
      case "markGood": {
        const r = await this.backend.markGood();
        this.log.info({ MESSAGE_ID: MessageId.markedGood, ...fields }, `slot ${ctx.slot}: ${r.message}`);
        return;
      }
      case "markBad": {
        try {
          const r = await this.backend.markBad();
          this.log.warn({ MESSAGE_ID: MessageId.markedBad, ...fields }, `slot ${ctx.slot}: ${r.message}`);
        } catch (err) {
          this.markBadFailed = true;
          this.log.error({ ...fields }, `could not mark ${ctx.slot} bad: ${describeError(err)}`);
        }
        return;
      }
      case "reboot": {
        if (this.markBadFailed) {
          // Rebooting into a slot still marked bootable would only repeat the failure.
          this.log.error({ ...fields }, "not rebooting: the slot could not be marked bad");
          return;
        }
        await writeLastTrial({
          slot: ctx.slot,
          verdict: ctx.verdict ?? "unhealthy",
          reason: ctx.reason ?? "",
          at: new Date().toISOString(),
        });
        this.log.warn(
          { MESSAGE_ID: MessageId.rebootRequested, ...fields },
          `rebooting to fall back from ${ctx.slot}: ${ctx.reason}`,
        );
        await this.rebooter.reboot();
        return;
      }
      case "flag": {
        await writeFlag(effect.which, effect.reason);
        return;
      }
      case "hooks": {
        const cmds = effect.which === "green" ? this.hooks.green : this.hooks.red;
        for (const cmd of cmds) await this.runHook(cmd, ctx);
        return;
      }
      case "verdict":
      case "check":
      case "lateFailure":
        return; // reported by the daemon, not acted upon
    }
  }

  private runHook(cmd: string, ctx: ActionContext): Promise<void> {
    return new Promise((resolve) => {
      // The hook's output goes where the daemon's does: the journal, under bootwarden.service.
      const child = spawn("/bin/sh", ["-c", cmd], {
        stdio: ["ignore", "inherit", "inherit"],
        env: {
          ...process.env,
          BOOTWARDEN_SLOT: ctx.slot,
          BOOTWARDEN_VERDICT: ctx.verdict ?? "",
          BOOTWARDEN_REASON: ctx.reason ?? "",
        },
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), this.hooks.timeout);
      child.on("error", (err) => {
        clearTimeout(timer);
        this.log.warn({ BOOTWARDEN_HOOK: cmd }, `hook could not run: ${err.message}`);
        resolve();
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) this.log.warn({ BOOTWARDEN_HOOK: cmd }, `hook exited with ${signal ?? code}`);
        resolve();
      });
    });
  }
}

/** /run/bootwarden/healthy is what bootwarden-healthy.path fires on; unhealthy carries the reason. */
export async function writeFlag(which: "healthy" | "unhealthy", reason: string): Promise<void> {
  const other = which === "healthy" ? "unhealthy" : "healthy";
  await rm(runFile(other), { force: true });
  await writeAtomic(runFile(which), `${reason}\n`);
}
