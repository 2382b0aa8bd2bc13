import { markBooted } from "../actions/mark-booted.js";
import { TrialRecords } from "../actions/trials.js";
import type { Clock } from "../base/clock.js";
import { describeError } from "../base/errors.js";
import type { Logger } from "../base/log.js";
import type { BootStateBackend } from "../bootstate/types.js";
import { apiProperties } from "../core/api-view.js";
import type { DaemonStatus } from "../core/status.js";
import { statusJson } from "../core/status-json.js";
import type { Daemon } from "../daemon/daemon.js";
import type { ApiService, SystemdConnection } from "../systemd/api.js";
import { serveApi } from "../systemd/api-server.js";
import { SystemdClient } from "../systemd/bus.js";

/**
 * The daemon's D-Bus API, fed by the status the daemon saves (a Publisher, like the metrics): its properties, its
 * GetStatus, and VerdictReached when a trial's verdict first appears. MarkGood/MarkBad during a trial's assessment
 * are an operator's verdict, carried out as the daemon's own (red hooks, mark, reboot); otherwise they mark as the
 * CLI does.
 */
export class ApiLink {
  private service?: ApiService;
  private last?: DaemonStatus;
  private verdictSaid = false;

  constructor(
    private readonly backend: BootStateBackend,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  readonly publish = async (s: DaemonStatus): Promise<void> => {
    this.last = s;
    const v = s.assessment?.verdict;
    if (!this.service) {
      this.verdictSaid ||= v !== undefined; // decided before the API was up (a restart): not news
      return;
    }
    this.service.publish(apiProperties(s));
    if (v && s.trialBoot && !this.verdictSaid) {
      this.verdictSaid = true;
      this.service.verdictReached(v.verdict, v.reason);
    }
  };

  /** Takes the name; a failure leaves the daemon assessing without its API, said once. */
  async serve(systemd: SystemdConnection, daemon: Daemon): Promise<void> {
    if (!(systemd instanceof SystemdClient)) return;
    const placeholder: DaemonStatus = {
      phase: "assessing",
      updatedAt: "",
      pid: process.pid,
      done: [],
      notes: [],
    };
    try {
      this.service = await serveApi(
        systemd,
        {
          getStatus: async () => ({
            ...statusJson(await this.backend.read({ nextBoot: true }), this.last, this.clock.now()),
          }),
          mark: (which, reason) => this.mark(daemon, which, reason),
        },
        apiProperties(this.last ?? placeholder),
      );
      if (this.last) await this.publish(this.last);
    } catch (err) {
      this.log.warn(`the D-Bus API is not served: ${describeError(err)}`);
    }
  }

  private async mark(daemon: Daemon, which: "good" | "bad", reason: string): Promise<string> {
    const verdict = which === "good" ? "healthy" : "unhealthy";
    const why = `operator: ${reason || `marked ${which} through the API`}`;
    if (daemon.decide(verdict, why)) {
      this.log.warn(
        `verdict ${verdict} from an operator through the D-Bus API: ${reason || "no reason given"}`,
      );
      return `verdict ${verdict} (${why}): carried out as the assessment's own`;
    }
    return markBooted(this.backend, which, new TrialRecords(), "through the API");
  }
}
