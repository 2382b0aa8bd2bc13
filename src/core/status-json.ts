import type { BootState } from "../bootstate/types.js";
import { compact } from "./api-view.js";
import type { DaemonStatus } from "./status.js";

/**
 * What `status --json` prints: the boot state, and the daemon's status with the time left. Keys whose value is
 * unknown are left out (compact), so the output is the same through the D-Bus API as from the files.
 */
export function statusJson(
  boot: BootState,
  daemon: DaemonStatus | undefined,
  now: number,
): Record<string, unknown> {
  // After our own rollback the boot loader's state may not show it (GPT: the failed slot's priority is 0); the
  // daemon of this boot read it from our record.
  const ours = daemon?.slot === boot.bootedSlot ? daemon.rolledBackFrom : undefined;
  const live = daemon?.assessment
    ? { ...daemon, timeLeftMs: daemon.assessment.verdict ? null : daemon.assessment.deadline - now }
    : daemon;
  return compact({
    ...boot,
    rolledBackFrom: boot.rolledBackFrom ?? ours ?? null,
    daemon: live ?? null,
  }) as Record<string, unknown>;
}
