import { existsSync } from "node:fs";
import type { Logger } from "../base/log.js";
import { MessageId } from "../base/message-ids.js";
import { sysPath } from "../base/paths.js";
import type { SystemdApi } from "../systemd/api.js";
import type { TrialRecords } from "./trials.js";

export const UNIT = "bootwarden-deployment-rollback.service";
const TIMEOUT_MS = 120_000;
/** bootc on a bootc host (its own status says so), else rpm-ostree: what greenboot's fallback check runs. */
const SCRIPT = `if command -v bootc >/dev/null && bootc status --booted --json >/dev/null 2>&1; then
  echo "bootc rollback"; exec bootc rollback
fi
echo "rpm-ostree rollback"; exec rpm-ostree rollback`;

/**
 * After a fallback from a failed trial on an ostree or bootc host (/run/ostree-booted), the previous deployment is
 * made the default as greenboot's greenboot-rpm-ostree-grub2-check-fallback does (`bootc rollback`, else
 * `rpm-ostree rollback`): otherwise the deployment order, `rpm-ostree status` and any boot after the boot loader's
 * counter is cleared still point at the failed one. Once per failed trial (a durable record; a new trial resets it),
 * as a transient unit outside the daemon's sandbox. A host with neither tool says so once and nothing is done.
 */
export class DeploymentRollback {
  constructor(
    private readonly systemd: SystemdApi,
    private readonly records: TrialRecords,
    private readonly log: Logger,
    private readonly has = (p: string) => existsSync(sysPath(p)),
  ) {}

  async afterFallback(failed: { slot: string }): Promise<void> {
    if (!this.has("/run/ostree-booted") || (await this.records.deploymentRolledBack())) return;
    const fields = { MESSAGE_ID: MessageId.deploymentRollback, BOOTWARDEN_FAILED_SLOT: failed.slot };
    if (!["bootc", "rpm-ostree"].some((t) => this.has(`/usr/bin/${t}`))) {
      this.log.warn(
        fields,
        "ostree host without bootc or rpm-ostree: the previous deployment is not made the default",
      );
      await this.records.recordDeploymentRollback(failed.slot, "none");
      return;
    }
    const result = await this.systemd.runTransient(UNIT, {
      description: "bootwarden: make the previous deployment the default after a failed trial",
      argv: ["/bin/sh", "-c", SCRIPT],
      timeoutMs: TIMEOUT_MS,
      environment: [],
      remainAfterExit: false,
    });
    if (result !== "done") {
      this.log.warn(
        fields,
        `${UNIT} ended with "${result}" (journalctl -u ${UNIT}); tried again at the next boot`,
      );
      return;
    }
    await this.records.recordDeploymentRollback(failed.slot, "done");
    this.log.warn(
      fields,
      `made the previous deployment the default after the failed trial of ${failed.slot} (${UNIT})`,
    );
  }
}
