import { describeError, isCode } from "../base/errors.js";
import type { CheckDef, Observation } from "../core/assessment.js";
import type { SystemdApi } from "../systemd/api.js";

const START_BATCH = 32; // dbus-daemon's pending-reply limit per connection is 128

/**
 * Command checks as transient units: started together (in the host's network and file system, with their own
 * journal stream), then observed by the unit watcher like any critical unit. A hanging one is killed by systemd at
 * its timeout; a retried one is restarted by systemd until the verdict stops it.
 */
export class CommandChecks {
  constructor(
    private readonly systemd: SystemdApi,
    private readonly defs: readonly CheckDef[],
    private readonly environment: string[],
  ) {}

  /** Starts every command's unit; returns the checks whose unit could not be started, with why. */
  async start(): Promise<Map<string, Observation>> {
    const failed = new Map<string, Observation>();
    for (let i = 0; i < this.defs.length; i += START_BATCH) {
      await Promise.all(
        this.defs.slice(i, i + START_BATCH).map(async (d) => {
          try {
            await this.systemd.startTransient(d.target, {
              description: `bootwarden ${d.critical ? "critical" : "wanted"} check: ${d.id.slice("command:".length)}`,
              argv: d.command!.argv,
              timeoutMs: d.command!.timeout,
              environment: this.environment,
              remainAfterExit: true,
              restartMs: d.command!.interval,
              network: d.command!.network,
            });
          } catch (err) {
            // Started by this daemon before a restart in the same boot: its unit tells how it went.
            if (isCode(err, "exists")) return;
            failed.set(d.id, {
              kind: "failed",
              detail: `could not start ${d.target}: ${describeError(err)}`,
            });
          }
        }),
      );
    }
    return failed;
  }

  /** After the verdict nothing waits for the unfinished ones: stop their retries. */
  async stop(ids: ReadonlySet<string>): Promise<void> {
    await Promise.all(
      this.defs
        .filter((d) => ids.has(d.id))
        .map((d) => this.systemd.stopUnit(d.target).catch(() => undefined)),
    );
  }
}
