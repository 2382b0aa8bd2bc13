import { spawn } from "node:child_process";
import type { Logger } from "../base/log.js";
import type { HookContext, HookRunner } from "../daemon/ports.js";

export interface HookConfig {
  green: string[];
  red: string[];
  timeout: number;
}

/** Hooks as /bin/sh -c children, one after the other, each killed at the timeout; a failing hook is only logged. */
export class ShellHookRunner implements HookRunner {
  constructor(
    private readonly cfg: HookConfig,
    private readonly log: Logger,
  ) {}

  async run(which: "green" | "red", ctx: HookContext): Promise<void> {
    for (const cmd of which === "green" ? this.cfg.green : this.cfg.red) await this.one(cmd, ctx);
  }

  private one(cmd: string, ctx: HookContext): Promise<void> {
    return new Promise((resolve) => {
      // The hook's output goes where the daemon's does: the journal, under bootwarden.service.
      const child = spawn("/bin/sh", ["-c", cmd], {
        stdio: ["ignore", "inherit", "inherit"],
        env: {
          ...process.env,
          BOOTWARDEN_SLOT: ctx.slot,
          BOOTWARDEN_VERDICT: ctx.verdict,
          BOOTWARDEN_REASON: ctx.reason,
        },
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), this.cfg.timeout);
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
