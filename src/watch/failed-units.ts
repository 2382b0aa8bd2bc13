import type { Observation } from "../core/assessment.js";
import type { SystemdApi } from "../systemd/api.js";

/**
 * The noFailedUnits check: systemd's NFailedUnits, re-read when jobs end (a unit can only fail through one). One read
 * at a time: jobs that end during it cause one more read after it, not one each (a boot ends hundreds at once).
 */
export class FailedUnitsWatcher {
  private last = -1;
  private reading = false;
  private again = false;

  constructor(
    private readonly systemd: SystemdApi,
    private readonly onObservation: (obs: Observation) => void,
    private readonly now: () => number,
    private readonly onError: (err: Error) => void,
  ) {}

  async start(): Promise<void> {
    this.systemd.on("jobRemoved", () => void this.check().catch((err: Error) => this.onError(err)));
    await this.systemd.watchAllJobs();
    await this.check();
  }

  async check(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        await this.read();
      } while (this.again);
    } finally {
      this.reading = false;
    }
  }

  private async read(): Promise<void> {
    const n = Number(await this.systemd.managerProperty("NFailedUnits"));
    if (n === this.last) return;
    this.last = n;
    this.onObservation(
      n === 0
        ? { kind: "up", since: this.now(), detail: "no failed units" }
        : { kind: "failed", detail: `${n} failed unit(s)` },
    );
  }
}
