import { FileStatusStore } from "../actions/status-store.js";
import { realClock } from "../base/clock.js";
import { createBackend } from "../bootstate/registry.js";
import { loadConfig } from "../config/load.js";
import { printable } from "../core/printable.js";
import { formatAssessment, formatBootState } from "./status-format.js";

/** `bootwarden status [--json]`: the boot state, and the live assessment while the daemon runs. */
export async function status(configPath: string | undefined, json: boolean): Promise<number> {
  const { config } = await loadConfig(configPath);
  const boot = await createBackend(config.bootState).read();
  const { status: daemon, problem } = await new FileStatusStore().readChecked();
  if (problem) process.stderr.write(`bootwarden: ${printable(problem)}; the live assessment is not shown\n`);
  const now = realClock.now();
  // After our own rollback the boot loader's state may not show it (GPT: the failed slot's priority is 0); the
  // daemon of this boot read it from our record.
  const ours = daemon?.slot === boot.bootedSlot ? daemon.rolledBackFrom : undefined;
  if (!boot.rolledBackFrom && ours) boot.rolledBackFrom = ours;
  if (json) {
    const live = daemon?.assessment
      ? { ...daemon, timeLeftMs: daemon.assessment.verdict ? null : daemon.assessment.deadline - now }
      : daemon;
    process.stdout.write(`${JSON.stringify({ ...boot, daemon: live ?? null })}\n`);
  } else {
    const lines = formatBootState(boot);
    if (daemon) lines.push(...formatAssessment(daemon, now));
    process.stdout.write(`${lines.map(printable).join("\n")}\n`);
  }
  return 0;
}
